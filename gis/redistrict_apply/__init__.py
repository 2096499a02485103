"""Applying a grid plan: validation, plan storage, and the one-transaction apply.

A plan (``grid_plan``) holds a community's new grid polygons; applying it ends the current
grid versions at ``valid_from`` and writes the plan's grids as new versions from then on,
moving worker assignments and devices with them. See docs/planning.md.
"""
