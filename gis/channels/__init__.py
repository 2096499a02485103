"""Outbound channels: one interface (``Channel.send(message) -> DeliveryReceipt``), one
module per provider, each speaking its provider's documented wire format and limits.

It lives in gis because ingest (the ladder's sender loop) and api both use it. Nothing here
touches the database: a delivery row is the caller's business (gis.deliveries).
"""
