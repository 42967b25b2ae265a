import pytest

from socstat.settings import Settings, SettingsError, load_settings, normalize_database_url


def test_defaults_use_sqlite_under_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("SOCSTAT_DATABASE_URL", raising=False)
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'socstat.db'}"
    assert settings.timezone == "Europe/Moscow"
    assert settings.vk_api_version == "5.199"


def test_bad_timezone_names_the_variable(monkeypatch):
    monkeypatch.setenv("SOCSTAT_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="SOCSTAT_TIMEZONE"):
        load_settings()


def test_bad_number_names_the_variable(monkeypatch):
    monkeypatch.setenv("SOCSTAT_SMTP_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="SOCSTAT_SMTP_PORT"):
        load_settings()


def test_prod_requires_secret_key(monkeypatch):
    monkeypatch.setenv("SOCSTAT_ENV", "prod")
    monkeypatch.setenv("SOCSTAT_SECRET_KEY", "")
    with pytest.raises(SettingsError, match="SOCSTAT_SECRET_KEY"):
        load_settings()


def test_postgres_urls_mean_psycopg3():
    assert normalize_database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalize_database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"


def test_demo_mode_without_tokens_points_at_sandbox():
    settings = Settings(vk_tokens="", sandbox_port=9999, _env_file=None)
    assert settings.demo_mode
    assert settings.effective_vk_api_url == "http://127.0.0.1:9999"
    real = Settings(vk_tokens="abc", _env_file=None)
    assert not real.demo_mode
    assert real.effective_vk_api_url == "https://api.vk.com"
