"""Outside development nothing starts with a default secret (gis.settings
.require_safe_secrets: API, ingest, broker config), device passwords and ID-number hashing
use separate secrets, and the API docs are off in production."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from gis import cli
from gis.pii import id_number_hmac
from gis.settings import InsecureSettings, Settings, get_settings
from ingest import worker

PRODUCTION = {
    "WANGGE_ENVIRONMENT": "production",
    "WANGGE_CREDENTIAL_SECRET": "device-secret-of-this-site",
    "WANGGE_PII_SECRET": "pii-secret-of-this-site",
    "WANGGE_MQTT_INGEST_PASSWORD": "ingest-password-of-this-site",
    "WANGGE_MQTT_ADMIN_PASSWORD": "admin-password-of-this-site",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path):  # noqa: ANN001, ANN201
    """Set WANGGE_ variables for get_settings(); the cached settings are dropped."""

    def apply(**variables: str) -> None:
        monkeypatch.setenv("WANGGE_RUN_DIR", str(tmp_path))
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def test_the_api_refuses_default_secrets_outside_development() -> None:
    with pytest.raises(InsecureSettings, match="WANGGE_CREDENTIAL_SECRET") as refused:
        create_app(Settings(environment="production"))
    for name in ("WANGGE_PII_SECRET", "WANGGE_MQTT_INGEST_PASSWORD", "WANGGE_MQTT_ADMIN_PASSWORD"):
        assert name in str(refused.value)
    create_app(Settings())  # development: defaults are fine


def test_one_secret_for_both_jobs_is_refused(environment) -> None:  # noqa: ANN001
    environment(**PRODUCTION | {"WANGGE_PII_SECRET": PRODUCTION["WANGGE_CREDENTIAL_SECRET"]})
    with pytest.raises(InsecureSettings, match="WANGGE_PII_SECRET"):
        create_app(get_settings())


def test_production_with_own_secrets_starts_without_api_docs(environment) -> None:  # noqa: ANN001
    environment(**PRODUCTION)
    client = TestClient(create_app(get_settings()))  # no lifespan: docs need no database
    for url in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(url).status_code == 404, url


def test_broker_config_and_ingest_refuse_default_secrets(
    environment,  # noqa: ANN001
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment(WANGGE_ENVIRONMENT="production")
    assert cli.main(["broker", "config"]) == 2
    assert "WANGGE_CREDENTIAL_SECRET" in capsys.readouterr().err
    assert cli.main(["ingest"]) == 2
    with pytest.raises(InsecureSettings):
        worker.main(["--number", "1"])
    assert not list(get_settings().run_dir.rglob("*.conf"))  # nothing was written


def test_id_numbers_are_keyed_with_the_pii_secret_not_the_device_secret() -> None:
    settings = Settings()
    assert settings.pii_secret != settings.credential_secret
    number = "150203199001011234"
    assert id_number_hmac(number, settings.pii_secret) != id_number_hmac(
        number, settings.credential_secret
    )
