"""Wangge foundation: settings, PostGIS schema, loaders, spatial operations."""
