"""Elderly watch that learns each household (智慧养老): pure, event-time detector code.

Nothing here touches a database or the wall clock. A sweep takes the detector state of a
batch of households (a numpy structured array, one fixed-layout record per household, so
it can live in PostgreSQL rows), the hourly rollups since the last sweep and returns the
findings and the new state. The backtest (``wangge watch backtest``) and the benchmark run
exactly this code. See docs/elderly-watch.md.
"""
