"""The repository's local dagster.yaml and workspace.yaml are valid (docker/ has the production ones, tested in e2e)."""

from pathlib import Path

import yaml
from dagster._core.instance.config import dagster_instance_config

ROOT = Path(__file__).resolve().parents[2]


def test_local_dagster_yaml_is_a_valid_instance_with_telemetry_and_the_welcome_modal_off():
    config, _ = dagster_instance_config(str(ROOT))
    assert config["telemetry"]["enabled"] is False and config["nux"]["enabled"] is False
    assert config["run_monitoring"]["free_slots_after_run_end_seconds"] > 0


def test_workspace_yaml_names_the_dfc_assets_location():
    (entry,) = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"]
    assert entry["python_module"] == {"module_name": "dfc_assets.definitions", "location_name": "dfc_assets"}


def test_the_embedded_default_uses_the_same_instance_settings(tmp_path):
    from dfc_assets.cli.embedded import prepare_dagster_home

    home = prepare_dagster_home(tmp_path)
    assert yaml.safe_load((home / "dagster.yaml").read_text()) == yaml.safe_load((ROOT / "dagster.yaml").read_text())
