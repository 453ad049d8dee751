"""Converter plugins through the ``interlayer.converters`` entry point group: the built-in example plugin is
found and used; a broken plugin is reported by name and stops nothing else."""
from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import keras
import pytest
from keras import layers

import interlayer
from interlayer import registry
from interlayer.errors import UnsupportedLayerError
from interlayer.frontends.keras import capture

from keras_helpers import check


def test_example_plugin_is_declared_as_an_entry_point():
    found = {entry.name: entry.value for entry in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert found.get("keras.example") == "interlayer.plugins.example"


def test_example_plugin_is_loaded_through_its_entry_point_only():
    """In a fresh interpreter nothing imports the plugin module by name: the registry finds it."""
    code = ("import sys\n"
            "import interlayer.registry as registry\n"
            "assert 'interlayer.plugins.example' not in sys.modules\n"
            "table = registry.converters('keras', 'frontend')\n"
            "from interlayer.plugins.example import Clamp, clamp\n"
            "assert table[Clamp] is clamp and not registry.plugin_errors()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_example_plugin_layer_converts():
    from interlayer.plugins.example import Clamp

    model = keras.Sequential([keras.Input((5, 5, 3)), layers.Conv2D(4, 3), Clamp(-0.3, 0.4, name="clamp")])
    graph = check(model)
    assert (graph.node("clamp").op, graph.node("clamp").attrs) == ("clip", {"min": -0.3, "max": 0.4})


@pytest.fixture
def fresh_plugins(monkeypatch):
    """The registry as if no plugin had been loaded yet, with ``entries`` as the installed entry points."""
    entries: list = []
    monkeypatch.setattr(registry, "_PLUGGED", set())
    monkeypatch.setattr(registry, "_PLUGIN_ERRORS", {})
    monkeypatch.setattr(registry, "_entry_points", lambda: list(entries))
    return entries


def _entry(name: str, value: str):
    return metadata.EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


def test_broken_plugin_is_a_warning_naming_it(fresh_plugins):
    fresh_plugins.append(_entry("keras.broken", "interlayer_no_such_plugin_module"))
    with pytest.warns(registry.PluginWarning, match="plugin 'keras.broken' failed to load"):
        registry.converters("keras", "frontend")
    assert "ModuleNotFoundError" in registry.plugin_errors()["keras.broken"]
    check(keras.Sequential([keras.Input((4,)), layers.Dense(3)]))  # an unrelated conversion still works


def test_broken_plugin_is_named_where_a_converter_is_missing(fresh_plugins):
    fresh_plugins.append(_entry("keras.broken", "interlayer_no_such_plugin_module"))

    class Unknown(layers.Layer):
        def call(self, inputs):
            return inputs

    with pytest.warns(registry.PluginWarning):
        registry.converters("keras", "frontend")
    with pytest.raises(UnsupportedLayerError, match="plugin\\(s\\) that failed to load: keras.broken"):
        capture(keras.Sequential([keras.Input((4,)), Unknown()]))


def register_dense_again():
    """A plugin function that claims a built-in key without replace=True."""
    interlayer.register("keras", "frontend", layers.Dense)(lambda ctx, layer, inputs: None)


def test_plugin_claiming_a_builtin_key_is_reported_not_applied(fresh_plugins):
    fresh_plugins.append(_entry("keras.clash", f"{__name__}:register_dense_again"))
    with pytest.warns(registry.PluginWarning, match="registered twice"):
        table = registry.converters("keras", "frontend")
    assert table[layers.Dense].__module__ == "interlayer.frontends.keras.core"


def test_plugins_of_another_framework_wait_for_it(fresh_plugins):
    fresh_plugins.append(_entry("torch.broken", "interlayer_no_such_plugin_module"))
    registry.converters("keras", "frontend")
    assert registry.plugin_errors() == {}
    with pytest.warns(registry.PluginWarning, match="torch.broken"):
        registry.converters("torch", "frontend")
