"""Wangge's HTTP API (FastAPI): GeoJSON layers, work orders, people, devices, live stream.

``api.app.create_app(settings)`` builds the application; ``wangge api serve`` runs it.
Every query goes through :mod:`api.scope`, so what a user may see is decided in SQL.
"""
