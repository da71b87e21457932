"""The forecast family: the next H values of dated series from their past, with the classic
baselines (naive, seasonal naive, drift, mean) beside every figure."""
