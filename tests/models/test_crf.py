"""CRF: likelihood, Viterbi and marginals against brute-force enumeration of every tag path;
padding invariance, gradients, scheme constraints, learning, and the errors."""

from __future__ import annotations

import doctest
import itertools

import pytest
import torch

from rnnkit.models import crf as crf_module
from rnnkit.models.crf import CRF, detect_scheme

BIO = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
BMES = ["B", "M", "E", "S"]


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    yield


def make_crf(num_tags: int, seed: int = 0, **kwargs) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(num_tags, **kwargs).double()
    with torch.no_grad():  # larger than the initial U(-0.1, 0.1), so paths differ clearly
        for p in crf.parameters():
            p.uniform_(-1.0, 1.0)
    return crf


def batch(num_tags: int, lengths: list[int], seed: int = 1, garbage: bool = True):
    """Random emissions (N, L, T), tags (N, L) and a prefix mask; garbage on padding."""
    g = torch.Generator().manual_seed(seed)
    n, length = len(lengths), max(lengths)
    emissions = torch.randn(n, length, num_tags, generator=g, dtype=torch.float64)
    tags = torch.randint(0, num_tags, (n, length), generator=g)
    mask = torch.arange(length) < torch.tensor(lengths)[:, None]
    if garbage:
        emissions = emissions.masked_fill(~mask[..., None], float("nan"))
        tags = tags.masked_fill(~mask, -100)
    return emissions, tags, mask


def path_score(crf: CRF, emissions: torch.Tensor, path: tuple[int, ...]) -> float:
    """s(y) for one sequence (its valid emissions (l, T)), straight from the definition."""
    s = crf.start[path[0]] + crf.end[path[-1]]
    s = s + sum(emissions[t, y] for t, y in enumerate(path))
    s = s + sum(crf.transitions[a, b] for a, b in itertools.pairwise(path))
    return float(s.detach())


def is_allowed(crf: CRF, path: tuple[int, ...]) -> bool:
    return bool(crf.allowed_start[path[0]] and crf.allowed_end[path[-1]]
                and all(crf.allowed[a, b] for a, b in itertools.pairwise(path)))


def enumerate_paths(crf: CRF, emissions: torch.Tensor, restrict: bool = False):
    """Every path of length `steps` (only the allowed ones with ``restrict``) and its score."""
    steps, num_tags = emissions.shape
    paths = [p for p in itertools.product(range(num_tags), repeat=steps)
             if not restrict or is_allowed(crf, p)]
    scores = torch.tensor([path_score(crf, emissions, p) for p in paths], dtype=torch.float64)
    return paths, scores


def brute_force(crf: CRF, emissions: torch.Tensor, tags: torch.Tensor, restrict: bool = False):
    """log p(tags), the argmax path and the (l, T) marginals by enumeration."""
    paths, scores = enumerate_paths(crf, emissions, restrict)
    log_z = torch.logsumexp(scores, dim=0)
    gold = path_score(crf, emissions, tuple(tags.tolist()))
    best = paths[int(scores.argmax())]
    probs = (scores - log_z).exp()
    marginals = torch.zeros_like(emissions)
    for p, prob in zip(paths, probs, strict=True):
        for t, y in enumerate(p):
            marginals[t, y] += prob
    return gold - float(log_z), best, marginals


@pytest.mark.parametrize("num_tags", [2, 3, 4])
@pytest.mark.parametrize("length", [1, 2, 3, 4])
def test_matches_brute_force(num_tags, length):
    crf = make_crf(num_tags, seed=num_tags * 10 + length)
    lengths = sorted({length, 1, max(1, length - 1), (length + 1) // 2}, reverse=True)
    emissions, tags, mask = batch(num_tags, lengths, seed=length)
    with torch.no_grad():
        ll = crf.log_likelihood(emissions, tags, mask)
        decoded = crf.decode(emissions, mask)
        marginals = crf.marginals(emissions, mask)
    for i, steps in enumerate(lengths):
        want_ll, want_path, want_marginals = brute_force(crf, emissions[i, :steps], tags[i, :steps])
        assert ll[i].item() == pytest.approx(want_ll, abs=1e-10)
        assert decoded[i, :steps].tolist() == list(want_path)
        assert (decoded[i, steps:] == 0).all()
        torch.testing.assert_close(marginals[i, :steps], want_marginals, atol=1e-10, rtol=0)
        assert (marginals[i, steps:] == 0).all()
    valid = marginals.sum(dim=2)[mask]
    torch.testing.assert_close(valid, torch.ones_like(valid), atol=1e-12, rtol=0)


@pytest.mark.parametrize("num_tags,length", [(2, 4), (3, 3), (4, 2)])
def test_probabilities_of_all_paths_sum_to_one(num_tags, length):
    crf = make_crf(num_tags)
    emissions = torch.randn(1, length, num_tags, dtype=torch.float64)
    paths = torch.tensor(list(itertools.product(range(num_tags), repeat=length)))  # (T^L, L)
    mask = torch.ones_like(paths, dtype=torch.bool)
    with torch.no_grad():
        ll = crf.log_likelihood(emissions.expand(len(paths), -1, -1), paths, mask)
    assert ll.exp().sum().item() == pytest.approx(1.0, abs=1e-12)


def test_padding_never_changes_a_result():
    crf = make_crf(4, seed=3)
    lengths = [7, 5, 3, 1, 6]
    emissions, tags, mask = batch(4, lengths, seed=5)  # NaN emissions and -100 tags on padding
    longer = torch.cat([emissions, torch.full_like(emissions[:, :3], 1e6)], dim=1)  # more padding
    longer_tags = torch.cat([tags, torch.full_like(tags[:, :3], 99)], dim=1)
    longer_mask = torch.cat([mask, torch.zeros_like(mask[:, :3])], dim=1)
    with torch.no_grad():
        results = [(crf.log_likelihood(e, t, m), crf.decode(e, m), crf.marginals(e, m))
                   for e, t, m in ((emissions, tags, mask), (longer, longer_tags, longer_mask))]
        for i, steps in enumerate(lengths):
            e, t, m = emissions[i : i + 1, :steps], tags[i : i + 1, :steps], mask[i : i + 1, :steps]
            alone = crf.log_likelihood(e, t, m), crf.decode(e, m), crf.marginals(e, m)
            for ll, path, marginals in results:
                torch.testing.assert_close(ll[i : i + 1], alone[0], atol=1e-12, rtol=0)
                assert torch.equal(path[i : i + 1, :steps], alone[1])
                assert (path[i, steps:] == 0).all()
                torch.testing.assert_close(marginals[i : i + 1, :steps], alone[2], atol=1e-12,
                                           rtol=0)
                assert (marginals[i, steps:] == 0).all()


def test_gradients_finite_and_gradcheck():
    crf = make_crf(3, seed=2)
    emissions, tags, mask = batch(3, [3, 2], seed=4, garbage=False)
    emissions.requires_grad_(True)
    transitions = crf.transitions.detach().clone().requires_grad_(True)

    def log_likelihood(emissions, transitions):
        params = {"transitions": transitions}
        return -torch.func.functional_call(crf, params, (emissions, tags, mask, "none"))

    assert torch.autograd.gradcheck(log_likelihood, (emissions, transitions))

    # with garbage padding and forbidden transitions, gradients stay finite; the forbidden
    # transitions' parameters get none
    crf = CRF.for_scheme(BIO).double()
    emissions, tags, mask = batch(5, [4, 2, 1], seed=6)
    emissions.requires_grad_(True)
    crf(emissions, tags, mask).backward()
    for grad in (emissions.grad, crf.start.grad, crf.end.grad, crf.transitions.grad):
        assert torch.isfinite(grad).all()
    assert (emissions.grad[~mask] == 0).all()
    assert (crf.transitions.grad[~crf.allowed] == 0).all()
    assert (crf.start.grad[~crf.allowed_start] == 0).all()


def test_reductions():
    crf = make_crf(3)
    emissions, tags, mask = batch(3, [4, 2, 1], seed=7)
    with torch.no_grad():
        nll = crf(emissions, tags, mask, reduction="none")
        torch.testing.assert_close(nll, -crf.log_likelihood(emissions, tags, mask))
        assert crf(emissions, tags, mask, "sum").item() == pytest.approx(nll.sum().item())
        assert crf(emissions, tags, mask).item() == pytest.approx(nll.mean().item())
        assert crf(emissions, tags, mask, "token_mean").item() == pytest.approx(
            nll.sum().item() / 7)


def test_float32_and_autocast():
    crf = make_crf(3).float()
    emissions, tags, mask = batch(3, [4, 2], seed=8)
    emissions = emissions.float()
    reference = crf.log_likelihood(emissions, tags, mask)
    assert reference.dtype == torch.float32 and torch.isfinite(reference).all()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = crf.log_likelihood(emissions.bfloat16(), tags, mask)
        marginals = crf.marginals(emissions.bfloat16(), mask)
    assert low.dtype == torch.float32 and marginals.dtype == torch.float32
    torch.testing.assert_close(low, reference, atol=0.1, rtol=0)  # bf16 inputs, f32 compute

    # a long float32 sequence: marginals as accurate as float64 ones (no large log-scores)
    emissions, _, mask = batch(3, [300, 120], seed=9)
    with torch.no_grad():
        single = crf.marginals(emissions.float(), mask)
        double = crf.double().marginals(emissions, mask)
    torch.testing.assert_close(single.double(), double, atol=1e-5, rtol=0)


def forbidden_steps(crf: CRF, path: list[int]) -> bool:
    return not is_allowed(crf, tuple(path))


def test_bio_scheme_constraints():
    crf = CRF.for_scheme(BIO)
    assert crf.scheme == "bio" and detect_scheme(BIO) == "bio"
    o, b_per, i_per, b_loc, i_loc = range(5)
    assert not crf.allowed[o, i_per] and not crf.allowed[b_loc, i_per]
    assert not crf.allowed[i_loc, i_per]
    assert crf.allowed[b_per, i_per] and crf.allowed[i_per, i_per] and crf.allowed[i_per, b_loc]
    assert crf.allowed[i_per, o] and crf.allowed[o, b_per]
    assert crf.allowed_start.tolist() == [True, True, False, True, False]
    assert crf.allowed_end.all()  # BIO may end anywhere

    # emissions strongly favour a forbidden path: O then I-PER, I-PER first, B-LOC -> I-PER
    emissions = torch.zeros(3, 3, 5)
    emissions[0, 0, o], emissions[0, 1, i_per], emissions[0, 2, i_per] = 50, 50, 50
    emissions[1, :, i_per] = 50
    emissions[2, 0, b_loc], emissions[2, 1, i_per] = 50, 50
    mask = torch.ones(3, 3, dtype=torch.bool)
    for path in crf.decode(emissions, mask).tolist():
        assert not forbidden_steps(crf, path), path
    g = torch.Generator().manual_seed(0)
    strong = 20 * torch.randn(20, 5, 5, generator=g)
    for path in crf.decode(strong, torch.ones(20, 5, dtype=torch.bool)).tolist():
        assert not forbidden_steps(crf, path), path


@pytest.mark.parametrize("names", [BIO, BMES, ["O", "B-X", "I-X", "E-X", "S-X", "S-Y"]])
def test_scheme_matches_brute_force_over_allowed_paths(names):
    crf = CRF.for_scheme(names).double()
    with torch.no_grad():
        for p in crf.parameters():
            p.uniform_(-1.0, 1.0)
    lengths = [4, 3, 1]
    emissions, _, mask = batch(len(names), lengths, seed=9)
    gold = []
    for steps in lengths:  # gold tags: an allowed path
        paths, _ = enumerate_paths(crf, emissions[0, :steps], restrict=True)
        gold.append(list(paths[len(paths) // 2]) + [-100] * (max(lengths) - steps))
    tags = torch.tensor(gold)
    with torch.no_grad():
        ll = crf.log_likelihood(emissions, tags, mask)
        decoded = crf.decode(emissions, mask)
        marginals = crf.marginals(emissions, mask)
    for i, steps in enumerate(lengths):
        want_ll, want_path, want_marginals = brute_force(crf, emissions[i, :steps], tags[i, :steps],
                                                         restrict=True)
        assert ll[i].item() == pytest.approx(want_ll, abs=1e-9)
        assert decoded[i, :steps].tolist() == list(want_path)
        torch.testing.assert_close(marginals[i, :steps], want_marginals, atol=1e-9, rtol=0)


def test_bmes_scheme_case_insensitive():
    crf = CRF.for_scheme(BMES)
    lower = CRF.for_scheme([n.lower() for n in BMES])
    assert crf.scheme == lower.scheme == "bioes"
    for name in ("allowed", "allowed_start", "allowed_end"):
        assert torch.equal(getattr(crf, name), getattr(lower, name))
    b, m, e, s = range(4)
    assert not crf.allowed[b, b] and not crf.allowed[b, s] and not crf.allowed[e, m]
    assert not crf.allowed[s, e] and not crf.allowed[m, s]
    assert crf.allowed[b, m] and crf.allowed[m, m] and crf.allowed[m, e] and crf.allowed[b, e]
    assert crf.allowed[e, b] and crf.allowed[s, s] and crf.allowed[e, s]
    assert crf.allowed_start.tolist() == [True, False, False, True]
    assert crf.allowed_end.tolist() == [False, False, True, True]
    emissions = torch.zeros(2, 3, 4)
    emissions[0, :, b] = 50  # B B B is forbidden three ways
    emissions[1, 0, m], emissions[1, 1, s], emissions[1, 2, b] = 50, 50, 50
    for path in crf.decode(emissions, torch.ones(2, 3, dtype=torch.bool)).tolist():
        assert not forbidden_steps(crf, path), path


def test_unrecognised_scheme_allows_everything():
    for names in (["NOUN", "VERB", "ADJ"], ["O"], ["B-PER", "X-PER"], ["B-", "I-"]):
        crf = CRF.for_scheme(names)
        assert crf.scheme is None and detect_scheme(names) is None
        assert crf.allowed.all() and crf.allowed_start.all() and crf.allowed_end.all()


def test_learns_a_deterministic_pattern():
    torch.manual_seed(0)
    crf = CRF(3)
    pattern = torch.tensor([0, 1] * 3)  # 0, 1, 0, 1, 0, 1
    lengths = torch.tensor([6, 5, 4, 3, 2, 1])
    mask = torch.arange(6) < lengths[:, None]
    tags = pattern.expand(6, 6).masked_fill(~mask, 0)
    emissions = torch.zeros(6, 6, 3)
    optimizer = torch.optim.Adam(crf.parameters(), lr=0.1)
    for _ in range(60):
        optimizer.zero_grad()
        crf(emissions, tags, mask).backward()
        optimizer.step()
    assert torch.equal(crf.decode(emissions, mask), tags)
    assert crf.marginals(emissions, mask)[mask].max(dim=1).values.min() > 0.9


def test_errors():
    crf = CRF(3)
    emissions, tags, mask = batch(3, [3, 2], seed=0, garbage=False)
    emissions = emissions.float()
    with pytest.raises(ValueError, match=r"emissions must have shape \(N, L, 3\), found \(2, 3, 4"):
        crf.decode(torch.zeros(2, 3, 4), mask)
    with pytest.raises(ValueError, match=r"emissions must have shape .* found \(2, 3\)"):
        crf.decode(torch.zeros(2, 3), mask)
    with pytest.raises(ValueError, match=r"L >= 1"):
        crf.decode(torch.zeros(2, 0, 3), torch.zeros(2, 0, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 3\).*found \(2, 4\)"):
        crf.decode(emissions, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"mask must be a bool tensor, found torch.int64"):
        crf.decode(emissions, mask.long())
    with pytest.raises(ValueError, match=r"prefix mask.*row 1"):
        crf.marginals(emissions, torch.tensor([[True] * 3, [True, False, True]]))
    with pytest.raises(ValueError, match=r"at least one valid step.*row 0"):
        crf(emissions, tags, torch.tensor([[False] * 3, [True, True, False]]))
    with pytest.raises(ValueError, match=r"tags must have shape \(2, 3\).*found \(2, 2\)"):
        crf(emissions, tags[:, :2], mask)
    with pytest.raises(ValueError, match=r"tags must be an int64 tensor, found torch.int32"):
        crf(emissions, tags.int(), mask)
    bad = tags.clone()
    bad[1, 1] = 3
    with pytest.raises(ValueError, match=r"tags must be in \[0, 3\).*found 3 at row 1, step 1"):
        crf(emissions, bad, mask)
    bad[1, 1], bad[1, 2] = 0, 7  # out of range on padding: fine
    crf(emissions, bad, mask)
    with pytest.raises(ValueError, match=r"reduction must be one of .* found 'avg'"):
        crf(emissions, tags, mask, reduction="avg")
    with pytest.raises(ValueError, match=r"num_tags must be an int >= 1, got 0"):
        CRF(0)
    with pytest.raises(ValueError, match=r"allowed must have shape \(3, 3\), found \(2, 2\)"):
        CRF(3, allowed=torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"allowed_end must be a bool tensor, found torch.float"):
        CRF(3, allowed_end=torch.ones(3))
    with pytest.raises(ValueError, match=r"at least one tag"):
        CRF.for_scheme([])


def test_state_dict_keeps_the_constraints():
    crf = CRF.for_scheme(BIO)
    other = CRF(5)
    other.load_state_dict(crf.state_dict())
    assert torch.equal(other.allowed, crf.allowed)
    assert torch.equal(other.transitions, crf.transitions)


def test_docstring_example_runs():
    result = doctest.testmod(crf_module, raise_on_error=False, verbose=False)
    assert result.attempted > 0 and result.failed == 0
