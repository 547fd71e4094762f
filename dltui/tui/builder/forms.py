"""What the builder's two forms hold, read from the document: no widgets here.

The layer form is the selected layer's fields (its kind's pydantic fields, the
optional ``name`` last); the settings form is the training settings, in
sections, with the fields that apply to the data source and switches chosen.
"""

from __future__ import annotations

from typing import Any

from dltui.builder.document import ExperimentDocument, LayerLoc
from dltui.builder.fields import fields_of
from dltui.builder.new_layer import UnknownLayerKind, kind_class
from dltui.builder.settings import EARLY_STOPPING_SWITCH, settings_sections, varied_params
from dltui.builder.toml_edit import MISSING
from dltui.safe_text import printable
from dltui.tui.builder.field_form import FormItem, heading, note


def layer_form(
    document: ExperimentDocument, stack: str, loc: LayerLoc | None
) -> tuple[str, list[FormItem], str]:
    """The layer form's title, fields and description line for the layer at ``loc``."""
    if loc is None:
        return "Layer", [], ""
    raw = document.layer(stack, loc)
    kind = str(raw.get("type", ""))
    title = f"{document.layer_path(stack, loc)} · {kind}"
    try:
        cls = kind_class(kind)
    except UnknownLayerKind as exc:
        return title, [], str(exc)
    # The optional name goes last: the kind's own fields are what people edit.
    specs = sorted(fields_of(cls, exclude=("type",)), key=lambda spec: spec.name == "name")
    items = [FormItem(f"layer:{spec.name}", spec, raw.get(spec.name)) for spec in specs]
    doc = (cls.__doc__ or "").strip().splitlines()
    return title, items, doc[0] if doc else ""


def settings_form(document: ExperimentDocument) -> list[FormItem]:
    """The training settings' fields, each section under its heading."""
    raw = document.raw()
    items: list[FormItem] = []
    for section in settings_sections(raw):
        items.append(heading(section.title))
        if section.title == "Sweep":
            varied = printable(", ".join(varied_params(raw)), keep_newlines=False) or "nothing"
            items.append(note(f"Varies {varied}: [sweep.params] is edited in the file."))
        for setting in section.fields:
            if setting.path == EARLY_STOPPING_SWITCH:
                value: Any = "early_stopping" in raw
            else:
                value = document.get_field(setting.path)
                value = None if value is MISSING else value
            items.append(FormItem(setting.path, setting.spec, value))
    return items
