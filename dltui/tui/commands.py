"""Every key binding of the dashboard, in one table: ids, keys, actions, words, where.

Each `Scope` is one place keys apply — the app, a screen, a dialog, a widget —
and lists its `Command`s. A class takes its ``BINDINGS`` from its scope
(``BINDINGS = BROWSER.bindings()``) and, for a screen, names the scope in
``SCOPE`` (see `scope_of`). The footer shows the bindings Textual made of them,
the help screen and the command palette (`dltui.tui.palette`) list a scope's
commands, and `dltui.tui.keymap` checks the user's remaps against this table
and `dltui keys` prints it. Every binding carries its command's ``id``, so a
remap by id (``App.set_keymap``) reaches it. Nothing here imports a screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Command:
    """One thing the user can do: its key(s), the action it runs, and how it is described."""

    id: str
    """Stable name, e.g. ``run.log_scale``; the binding's id, which a keymap file remaps."""
    key: str
    """Default key(s), comma-separated as in `textual.binding.Binding`."""
    action: str
    """The action run on the class that binds it (``app.`` actions run on the app)."""
    title: str
    """Short label for the footer and the palette."""
    help: str
    """One sentence for the help screen and the palette."""
    show: bool = True
    """Whether the footer shows it."""
    key_display: str | None = None
    palette: bool = True
    """Whether the command palette lists it (cursor motions and dialog keys are left out)."""
    priority: bool = False
    """Whether the key goes to this command before the focused widget (a table's arrows)."""

    def binding(self) -> Binding:
        """This command as a key binding."""
        return Binding(
            self.key,
            self.action,
            self.title,
            show=self.show,
            key_display=self.key_display,
            id=self.id,
            tooltip=self.help,
            priority=self.priority,
        )


@dataclass(frozen=True)
class Scope:
    """The commands of one place (the app, a screen, a dialog, a widget): they share keys."""

    id: str
    title: str
    """How the user knows the place: the help screen's heading, `dltui keys`' section."""
    commands: tuple[Command, ...]
    includes_app: bool = False
    """A screen the app's keys also work on (not a modal dialog, not a widget)."""

    def bindings(self) -> list[BindingType]:
        """The key bindings of this scope's commands, for a class's ``BINDINGS``."""
        return [command.binding() for command in self.commands]


# The table reads as a table: one command on a line or two, aligned by hand.
# fmt: off

APP = Scope("app", "Everywhere", (
    Command("app.help", "question_mark", "help", "Help",
            "Show every key of this screen and the app.", key_display="?"),
    Command("app.quit", "q", "quit", "Quit", "Quit the dashboard; runs keep training."),
    Command("app.next_theme", "ctrl+t", "next_theme", "Theme",
            "Switch to the next theme.", show=False),
))

SAVE_AS = Scope("save_as", "SaveAsDialog", (
    Command("save_as.cancel", "escape", "cancel", "Cancel", "Close without saving.",
            palette=False),
))

CHOICE = Scope("choice", "ChoiceDialog", (
    Command("choice.cancel", "escape", "cancel", "Cancel", "Close without choosing.",
            palette=False),
))

SELECT = Scope("select", "FieldSelect", (
    Command("select.open", "enter,space", "show_overlay", "Choose",
            "Open a choice field's list (up and down move between fields).",
            show=False, palette=False),
))

FORM = Scope("form", "FieldForm", (
    Command("form.next_field", "down", "next_field", "Next field",
            "The next field.", show=False, palette=False),
    Command("form.previous_field", "up", "previous_field", "Previous field",
            "The field above.", show=False, palette=False),
    Command("form.leave", "escape", "screen.focus_stack", "Back to layers",
            "Leave the form for the layer stack.", palette=False),
))

PICKER = Scope("picker", "KindPicker", (
    Command("picker.cancel", "escape", "cancel", "Cancel",
            "Close without choosing.", palette=False),
    Command("picker.next", "down", "move(1)", "Next",
            "The next layer kind.", show=False, palette=False),
    Command("picker.previous", "up", "move(-1)", "Previous",
            "The layer kind above.", show=False, palette=False),
))

BUILDER = Scope("builder",
                "Builder (tab moves between the stack, the layer's fields and the settings)", (
    Command("builder.down", "j", "cursor_down", "Move",
            "Down a layer; in a form, the next field (a text field takes j as typing: use ↓).",
            key_display="j/k", palette=False),
    Command("builder.up", "k", "cursor_up", "Up",
            "Up a layer; in a form, the field above (in a text field: ↑).",
            show=False, palette=False),
    Command("builder.edit", "e,enter", "edit_layer", "Edit",
            "Edit the selected layer's fields (escape comes back to the stack).",
            key_display="enter"),
    Command("builder.add", "a", "add_layer", "Add", "Add a layer after the selected one."),
    # Insert and Delete are left out of the footer so that it fits 80 columns (help lists them).
    Command("builder.insert", "i", "insert_layer", "Insert",
            "Insert a layer before it.", show=False),
    Command("builder.delete", "d,delete", "delete_layer", "Delete",
            "Delete the selected layer.", show=False),
    Command("builder.duplicate", "y", "duplicate_layer", "Duplicate",
            "Insert a copy of the selected layer after it.", show=False),
    Command("builder.move_up", "K,ctrl+up", "move_layer(-1)", "Move layer up",
            "Move the selected layer up.", show=False),
    Command("builder.move_down", "J,ctrl+down", "move_layer(1)", "Move layer down",
            "Move the selected layer down.", show=False),
    Command("builder.undo", "u,ctrl+z", "undo", "Undo", "Undo the last edit."),
    Command("builder.redo", "U,ctrl+y", "redo", "Redo", "Redo the last undone edit.", show=False),
    Command("builder.switch_stack", "g", "switch_stack", "Gen/Disc",
            "Show a GAN's other stack (generator or discriminator)."),
    Command("builder.next_pane", "tab", "next_pane", "Pane",
            "Move between the stack, the layer's fields and the training settings.",
            key_display="tab"),
    Command("builder.previous_pane", "shift+tab", "previous_pane", "Previous pane",
            "Move to the previous pane.", show=False),
    Command("builder.save", "ctrl+s", "save", "Save", "Save the experiment file."),
    Command("builder.launch", "r", "launch", "Run",
            "Save, then start training (refused, with the reasons, while dltui check finds "
            "problems)."),
    # The app's help, for the builder; listed here so that the builder's footer shows it.
    Command("builder.help", "question_mark", "app.help", "Help",
            "Show every key of the builder.", key_display="?"),
    Command("builder.back", "escape", "back", "Back", "Back to the experiments (asks to save)."),
), includes_app=True)

STACK = Scope("stack", "StackTable", (
    Command("stack.first", "home", "first_layer", "First layer",
            "Select the first layer.", show=False, palette=False),
    Command("stack.last", "end", "last_layer", "Last layer",
            "Select the last layer.", show=False, palette=False),
))

TEMPLATE = Scope("template", "TemplatePicker", (
    Command("template.cancel", "escape", "cancel", "Cancel",
            "Close without a new experiment.", palette=False),
    Command("template.down", "j", "move(1)", "Down",
            "The next template.", show=False, palette=False),
    Command("template.up", "k", "move(-1)", "Up",
            "The template above.", show=False, palette=False),
))

BROWSER = Scope("browser", "Experiments and runs", (
    Command("browser.open", "enter", "open", "Open",
            "Open the selected run or sweep, or the newest run of an experiment.",
            key_display="enter"),
    Command("browser.mark", "space", "mark", "Mark ↓",
            "Mark or unmark the selected run (for c, D), then move down."),
    Command("browser.compare", "c", "compare", "Compare",
            "Compare the marked runs in view (or every run of the experiment)."),
    Command("browser.launch", "r", "launch", "Run", "Start training the selected experiment."),
    Command("browser.sweep", "w", "sweep", "Sweep",
            "Start a sweep of the selected experiment (its [sweep] table), after asking."),
    Command("browser.stop", "S", "stop", "Stop",
            "Ask the selected run (or sweep) to stop (it saves a checkpoint first)."),
    Command("browser.resume", "R", "resume", "Resume",
            "Resume the selected run from its last checkpoint (or carry on a stopped sweep)."),
    Command("browser.delete", "D", "delete", "Delete",
            "Delete the marked runs in view, or the selected run, after asking (never a live "
            "run).", show=False),
    Command("browser.new", "n", "new", "New",
            "A new experiment from a template (cnn, gan, lstm ...)."),
    Command("browser.edit", "e", "edit", "Edit", "Edit the selected experiment's layer stack."),
    # priority: the app runs it before it hands on the keys typed after it ("/gan" in one
    # burst), so they reach the filter box and not the list ("n" opened a template).
    Command("browser.filter", "slash", "filter", "Filter",
            "Filter experiments and runs by typing.", key_display="/", priority=True),
    Command("browser.sort", "o", "sort", "Sort",
            "Cycle the order: newest, name, best value, status."),
    Command("browser.clear", "escape", "clear", "Clear",
            "Clear the filter and the marks.", show=False),
    Command("browser.down", "j", "cursor_down", "Down", "Move down.", show=False, palette=False),
    Command("browser.up", "k", "cursor_up", "Up", "Move up.", show=False, palette=False),
    Command("browser.collapse", "h", "collapse", "Collapse",
            "Collapse the experiment (or the sweep's trials).", show=False, palette=False),
    Command("browser.expand", "l", "expand", "Expand",
            "Expand the experiment (or the sweep's trials).", show=False, palette=False),
    Command("browser.top", "g", "top", "Top", "Go to the first row.", show=False, palette=False),
    Command("browser.bottom", "G", "bottom", "Bottom",
            "Go to the last row.", show=False, palette=False),
    Command("browser.refresh", "f5", "refresh", "Refresh",
            "Re-read experiments and runs now.", show=False),
), includes_app=True)


def _plot_commands(prefix: str) -> tuple[Command, ...]:
    """The plot settings the run view and the compare view both offer."""
    return (
        Command(f"{prefix}.smoothing", "s", "smoothing", "Smooth",
                "Toggle smoothing of noisy per-step series (a debiased EMA)."),
        Command(f"{prefix}.smooth_less", "left_square_bracket", "smooth_less", "Less smooth",
                "Decrease the smoothing weight.", show=False, key_display="["),
        Command(f"{prefix}.smooth_more", "right_square_bracket", "smooth_more", "More smooth",
                "Increase the smoothing weight.", show=False, key_display="]"),
        Command(f"{prefix}.log_scale", "L", "log_scale", "Log y", "Toggle a logarithmic y axis."),
        Command(f"{prefix}.x_axis", "x", "x_axis", "X axis",
                "Cycle the x axis: step, epoch, relative time."),
    )


COMPARE = Scope("compare", "Compare runs", (
    *_plot_commands("compare"),
    Command("compare.raw", "r", "raw", "Raw",
            "Show or hide each run's faint raw line behind its smoothed one."),
    Command("compare.next_tag", "t", "next_tag", "Next metric", "Show the next metric."),
    Command("compare.previous_tag", "T", "previous_tag", "Previous metric",
            "Show the previous metric.", show=False),
    Command("compare.diff", "d", "toggle_diff", "Differences",
            "Show or hide the experiment fields that differ."),
    Command("compare.back", "escape", "back", "Back", "Back to the experiments."),
), includes_app=True)

CONFIRM = Scope("confirm", "ConfirmDialog", (
    Command("confirm.yes", "y,enter", "confirm", "Yes", "Answer yes.", palette=False),
    Command("confirm.no", "n,escape", "cancel", "No", "Answer no.", palette=False),
))

HELP = Scope("help", "HelpScreen", (
    Command("help.close", "escape,question_mark,q", "dismiss", "Close",
            "Close the help.", key_display="esc"),
))

SWEEP_TABS: tuple[str, ...] = ("Trials", "Progress", "Parameters", "Importances")
"""The sweep view's tabs, in number-key order."""

SWEEP = Scope("sweep", "Sweep view", (
    Command("sweep.open", "enter", "open_trial", "Open",
            "Open the selected trial's run view."),
    Command("sweep.mark", "space", "mark", "Mark ↓",
            "Mark or unmark the selected trial for comparing, then move down."),
    Command("sweep.compare", "c", "compare", "Compare",
            "Compare the marked trials (or else the five best)."),
    Command("sweep.sort", "o", "sort", "Sort",
            "Sort the trials by the next column (the heading shows which, ▲▼ the way)."),
    Command("sweep.reverse", "O", "reverse", "Reverse", "Reverse the order of the trials.",
            show=False),
    Command("sweep.next_tab", "tab", "next_tab", "Next tab",
            "Next tab: trials, progress, parameters, importances.", key_display="tab"),
    Command("sweep.previous_tab", "shift+tab", "previous_tab", "Previous tab",
            "Previous tab.", show=False),
    *(
        Command(f"sweep.tab_{number}", str(number), f"show_tab({number})",
                f"Tab {number}: {title}", f"Show the {title.lower()} tab.", show=False)
        for number, title in enumerate(SWEEP_TABS, start=1)
    ),
    Command("sweep.next_page", "p", "next_page", "More plots",
            "Show the next page of parameter plots, when they do not all fit."),
    Command("sweep.stop", "S", "stop", "Stop sweep",
            "Ask the sweep to stop: its running trials save a checkpoint and end."),
    Command("sweep.resume", "R", "resume", "Resume sweep",
            "Carry on a stopped sweep (dltui sweep --resume): finished trials are kept."),
    Command("sweep.down", "j", "cursor_down", "Down", "Move down.", show=False, palette=False),
    Command("sweep.up", "k", "cursor_up", "Up", "Move up.", show=False, palette=False),
    Command("sweep.top", "g", "top", "Top", "Go to the first trial.", show=False,
            palette=False),
    Command("sweep.bottom", "G", "bottom", "Bottom", "Go to the last trial.", show=False,
            palette=False),
    Command("sweep.back", "escape", "back", "Back", "Back to the experiments."),
), includes_app=True)

PANE_TITLES: tuple[str, ...] = (
    "Curves", "Overview", "Early stopping", "Gradients", "System", "Output", "Samples",
    "Confusion",
)
"""The run view's panes, in number-key order."""

PANE_SHORT_TITLES: tuple[str, ...] = (
    "Curves", "Overview", "Stopping", "Grads", "System", "Output", "Samples", "Confusion",
)
"""The same, as the tab line writes them when the full titles do not fit (80 columns)."""

RUN = Scope("run", "Run view", (
    *_plot_commands("run"),
    Command("run.raw", "r", "raw", "Raw",
            "Show or hide the faint raw lines behind the smoothed ones."),
    Command("run.cursor", "c", "cursor", "Cursor",
            "Show or hide a cursor: every series' value at one x."),
    Command("run.cursor_left", "left", "move_cursor(-1)", "Move",
            "Move the cursor one column left.",
            key_display="←→", palette=False, priority=True),
    Command("run.cursor_right", "right", "move_cursor(1)", "Cursor right",
            "Move the cursor one column right.",
            show=False, palette=False, priority=True),
    Command("run.cursor_far_left", "shift+left", "move_cursor(-10)", "Cursor far left",
            "Move the cursor ten columns left.", show=False, palette=False, priority=True),
    Command("run.cursor_far_right", "shift+right", "move_cursor(10)", "Cursor far right",
            "Move the cursor ten columns right.", show=False, palette=False, priority=True),
    Command("run.next_plots", "p", "next_plots", "More plots",
            "Show the next page of plots, when they do not all fit."),
    Command("run.older_sample", "comma", "older_sample", "Older",
            "Show the previous sample (Samples pane).", key_display=","),
    Command("run.newer_sample", "full_stop", "newer_sample", "Newer",
            "Show the next sample (Samples pane).", key_display="."),
    Command("run.zoom", "z", "zoom", "Zoom", "Maximise the current pane, or show them all again."),
    Command("run.next_pane", "tab", "next_pane", "Next pane", "Move to the next pane.", show=False),
    Command("run.previous_pane", "shift+tab", "previous_pane", "Previous pane",
            "Move to the previous pane.", show=False),
    *(
        Command(f"run.pane_{number}", str(number), f"show_pane({number})",
                f"Pane {number}: {title}", f"Show the {title.lower()} pane.", show=False)
        for number, title in enumerate(PANE_TITLES, start=1)
    ),
    Command("run.stop", "S", "stop", "Stop", "Ask this run to stop (it saves a checkpoint first)."),
    Command("run.resume", "R", "resume", "Resume", "Resume this run from its last checkpoint."),
    Command("run.sweep", "w", "open_sweep", "Sweep",
            "Go to the sweep this run is a trial of (its sweep view)."),
    Command("run.back", "escape", "back", "Back", "Back to the experiments."),
), includes_app=True)

# fmt: on

SCOPES: tuple[Scope, ...] = (
    APP,
    SAVE_AS,
    CHOICE,
    SELECT,
    FORM,
    PICKER,
    BUILDER,
    STACK,
    TEMPLATE,
    BROWSER,
    COMPARE,
    CONFIRM,
    HELP,
    RUN,
    SWEEP,
)
"""Every scope, in the order `dltui keys` lists them."""


def scope_of(node: object) -> Scope | None:
    """The scope a screen (or widget) class declares in ``SCOPE``, if it declares one."""
    scope = getattr(type(node), "SCOPE", None)
    return scope if isinstance(scope, Scope) else None
