"""The test suite, importable as ``tests`` so test modules can share helper fixtures."""

import pytest

# Helper modules used as pytest plugins *and* imported by tests: rewrite their asserts
# before the first import, so pytest neither warns nor loses assertion details.
pytest.register_assert_rewrite("tests.mqtt_helpers")
