"""Device simulators that behave like real firmware and know only the MQTT contract.

Nothing here imports the platform (gis, ingest, api, maps): like a third-party device, the
simulator is built from docs/mqtt-contract.md and a provisioning file alone.
"""
