"""Dated values to forecast: the ``series`` source.

Wide and long CSV files and Monash ``.tsf`` files are read (``readers``) with their dates
(``dates``), made regular or refused (``regular``), and cut into windows of a lookback and a
horizon (``windows``) for the forecast family (``datamodule``).
"""
