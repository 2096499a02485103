"""Redistricting: propose grids of a community against household targets, and measure plans.

One engine for the CLI (``wangge redistrict``), and later the API job and the editor:
inputs (files) → tessellation units bounded by roads → unit graph → partition → grid
polygons with codes → metrics. Everything geometric runs in a metric CRS (the local UTM
zone); plans are written in WGS84.
"""
