"""Settings: one tree, one override rule (base < local < environment), unknown keys refused."""
import shutil

import pytest

from pipelines.io.settings import SettingsError, conf_root, load_settings


@pytest.fixture
def conf(tmp_path):
    shutil.copytree(conf_root() / "base", tmp_path / "base")
    (tmp_path / "local").mkdir()
    return tmp_path


def test_each_file_is_a_section_and_layers_override_in_order(conf):
    base = load_settings(conf, environ={})
    assert base["spark"]["master"] == "local[2]"  # shiprisk.yaml sections at the top
    assert base["validation"]["quarantine_threshold"] == 0.05  # validation.yaml is `validation`
    assert base["features"]["route_lookback_days"] == 90  # features.yaml is `features`
    assert base["parties"]["history_store"]["lookback_days"] == 365

    (conf / "local" / "validation.yaml").write_text("quarantine_threshold: 0.2\nthresholds: {outcomes: 0.3}\n")
    (conf / "local" / "shiprisk.yaml").write_text("spark: {master: 'local[1]'}\nevaluation: {holdout_days: 7}\n")
    local = load_settings(conf, environ={})
    assert local["validation"]["quarantine_threshold"] == 0.2
    assert local["validation"]["thresholds"] == {"outcomes": 0.3}  # an open map takes new keys
    assert (local["spark"]["master"], local["spark"]["app_name"]) == ("local[1]", "shiprisk")  # merged, not replaced
    assert local["evaluation"]["holdout_days"] == 7 and local["evaluation"]["label_lag_days"] == 14

    env = {"SHIPRISK__VALIDATION__QUARANTINE_THRESHOLD": "0.4", "SHIPRISK__SPARK__MASTER": "spark://h:7077",
           "SHIPRISK__SELECTION__OFFICE_CAPACITY__HKAIR": "80", "OTHER": "x"}
    both = load_settings(conf, environ=env)
    assert both["validation"]["quarantine_threshold"] == 0.4  # environment beats local, typed by YAML
    assert both["spark"]["master"] == "spark://h:7077"
    assert both["selection"]["office_capacity"] == {"HKAIR": 80}
    assert both["evaluation"]["holdout_days"] == 7  # local still applies where env says nothing


def test_unknown_or_misspelt_keys_are_errors_naming_them(conf):
    with pytest.raises(SettingsError, match=r"unknown setting validation\.quarantine_treshold in the SHIPRISK__\* "
                                            r"environment variables; did you mean validation\.quarantine_threshold\?"):
        load_settings(conf, environ={"SHIPRISK__VALIDATION__QUARANTINE_TRESHOLD": "0.1"})
    (conf / "local" / "shiprisk.yaml").write_text("promotion: {window_days: 14}\n")
    with pytest.raises(SettingsError, match=r"unknown setting promotion\.window_days in .*local"):
        load_settings(conf, environ={})
    (conf / "local" / "shiprisk.yaml").write_text("sparkk: {master: x}\n")
    with pytest.raises(SettingsError, match=r"unknown setting sparkk .*did you mean spark\?"):
        load_settings(conf, environ={})


def test_broken_or_missing_configuration_is_a_clear_error(conf, tmp_path):
    (conf / "local" / "report.yaml").write_text("bucket: [week\n")
    with pytest.raises(SettingsError, match=r"report\.yaml is not valid YAML"):
        load_settings(conf, environ={})
    with pytest.raises(SettingsError, match="set SHIPRISK_CONF_DIR"):
        load_settings(tmp_path / "nowhere", environ={})


def test_commands_refuse_a_misspelt_override_with_exit_2(monkeypatch, capsys, tmp_path):
    from pipelines.cli import main

    monkeypatch.setenv("SHIPRISK__MODEL__LERNING_RATE", "0.1")
    assert main(["models", "--workspace", str(tmp_path)]) == 2
    assert "unknown setting model.lerning_rate" in capsys.readouterr().err
