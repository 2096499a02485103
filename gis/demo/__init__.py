"""The demo city generator (``wangge generate``): a generated city inside the real 昆都仑区.

Public entry points: ``gis.demo.generate.generate(households, seed, out, boundaries_dir)``
writes a dataset folder (contract in ``gis.demo.dataset``); ``gis.gridcodes.number_grids``
numbers grids; ``gis.demo.partition.bisect_partition`` splits weighted points into groups.
"""
