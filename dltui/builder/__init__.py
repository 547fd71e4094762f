"""The layer-stack builder's domain: the editable experiment file, no Textual.

`ExperimentDocument` edits an experiment file while keeping its comments, with
undo/redo and conflict-safe saving; `fields_of`/`settings_sections` describe
the forms; `templates()` lists the shipped starting points; `compute_shapes`
(torch, in a worker) gives the live shapes of a stack.
"""

from dltui.builder.document import (
    DiskState,
    DocumentError,
    ExperimentDocument,
    LayerLoc,
    SaveConflict,
)
from dltui.builder.fields import REMOVE, FieldSpec, FieldValueError, field_spec, fields_of
from dltui.builder.new_layer import UnknownLayerKind, new_layer
from dltui.builder.settings import SettingField, SettingSection, settings_sections
from dltui.builder.templates import UnknownTemplate, template_text, templates
from dltui.builder.toml_edit import MISSING

__all__ = [
    "MISSING",
    "REMOVE",
    "DiskState",
    "DocumentError",
    "ExperimentDocument",
    "FieldSpec",
    "FieldValueError",
    "LayerLoc",
    "SaveConflict",
    "SettingField",
    "SettingSection",
    "UnknownLayerKind",
    "UnknownTemplate",
    "field_spec",
    "fields_of",
    "new_layer",
    "settings_sections",
    "template_text",
    "templates",
]
