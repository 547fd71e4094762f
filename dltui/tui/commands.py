"""Every user command, defined once: it becomes a key binding and a command-palette entry.

A screen lists its commands in ``COMMANDS_LIST`` and derives ``BINDINGS`` from
them with `bindings`; `DashboardCommands` offers the commands of the screen the
palette was opened on (plus the app's, and one entry per theme). Each binding
carries the command's ``id``, so keys can be remapped with ``App.set_keymap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from dltui.safe_text import printable


@dataclass(frozen=True)
class Command:
    """One thing the user can do: its key(s), the action it runs, and how it is described."""

    id: str
    """Stable name, e.g. ``run.log_scale``; the binding's id."""
    key: str
    """Default key(s), comma-separated as in `textual.binding.Binding`."""
    action: str
    """The action run on the screen (or the app, for app commands)."""
    title: str
    """Short label for the footer and the palette."""
    help: str
    """One sentence for the help screen and the palette."""
    show: bool = True
    """Whether the footer shows it."""
    key_display: str | None = None
    palette: bool = True
    """Whether the command palette lists it (cursor motions are left out)."""
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


BindingList = list[Binding | tuple[str, str] | tuple[str, str, str]]
"""What Textual accepts as ``BINDINGS``."""


def bindings(commands: Iterable[Command]) -> BindingList:
    """The key bindings of ``commands``."""
    return [command.binding() for command in commands]


APP_COMMANDS: tuple[Command, ...] = (
    Command(
        "app.help",
        "question_mark",
        "help",
        "Help",
        "Show every key of this screen and the app.",
        key_display="?",
    ),
    Command("app.quit", "q", "quit", "Quit", "Quit the dashboard; runs keep training."),
    Command(
        "app.next_theme", "ctrl+t", "next_theme", "Theme", "Switch to the next theme.", show=False
    ),
)

BROWSER_COMMANDS: tuple[Command, ...] = (
    Command(
        "browser.open",
        "enter",
        "open",
        "Open",
        "Open the selected run, or the newest run of an experiment.",
    ),
    Command(
        "browser.mark",
        "space",
        "mark",
        "Mark ↓",
        "Mark or unmark the selected run (for c, D), then move down.",
    ),
    Command(
        "browser.compare",
        "c",
        "compare",
        "Compare",
        "Compare the marked runs in view (or every run of the experiment).",
    ),
    Command("browser.launch", "r", "launch", "Run", "Start training the selected experiment."),
    Command(
        "browser.stop",
        "S",
        "stop",
        "Stop",
        "Ask the selected run to stop (it saves a checkpoint first).",
    ),
    Command(
        "browser.resume",
        "R",
        "resume",
        "Resume",
        "Resume the selected run from its last checkpoint.",
    ),
    Command(
        "browser.delete",
        "D",
        "delete",
        "Delete",
        "Delete the marked runs in view, or the selected run, after asking (never a live run).",
        show=False,
    ),
    Command(
        "browser.new", "n", "new", "New", "A new experiment from a template (cnn, gan, lstm ...)."
    ),
    Command("browser.edit", "e", "edit", "Edit", "Edit the selected experiment's layer stack."),
    Command(
        "browser.filter",
        "slash",
        "filter",
        "Filter",
        "Filter experiments and runs by typing.",
        key_display="/",
    ),
    Command(
        "browser.sort", "o", "sort", "Sort", "Cycle the order: newest, name, best value, status."
    ),
    Command(
        "browser.clear", "escape", "clear", "Clear", "Clear the filter and the marks.", show=False
    ),
    Command("browser.down", "j", "cursor_down", "Down", "Move down.", show=False, palette=False),
    Command("browser.up", "k", "cursor_up", "Up", "Move up.", show=False, palette=False),
    Command(
        "browser.collapse",
        "h",
        "collapse",
        "Collapse",
        "Collapse the experiment.",
        show=False,
        palette=False,
    ),
    Command(
        "browser.expand",
        "l",
        "expand",
        "Expand",
        "Expand the experiment.",
        show=False,
        palette=False,
    ),
    Command("browser.top", "g", "top", "Top", "Go to the first row.", show=False, palette=False),
    Command(
        "browser.bottom", "G", "bottom", "Bottom", "Go to the last row.", show=False, palette=False
    ),
    Command(
        "browser.refresh",
        "f5",
        "refresh",
        "Refresh",
        "Re-read experiments and runs now.",
        show=False,
    ),
)

_PLOT_COMMANDS: tuple[str, ...] = ("smoothing", "smooth_less", "smooth_more", "log_scale", "x_axis")


def _plot_commands(prefix: str) -> tuple[Command, ...]:
    return (
        Command(
            f"{prefix}.smoothing",
            "s",
            "smoothing",
            "Smooth",
            "Toggle smoothing of noisy per-step series (a debiased EMA).",
        ),
        Command(
            f"{prefix}.smooth_less",
            "left_square_bracket",
            "smooth_less",
            "Less smooth",
            "Decrease the smoothing weight.",
            show=False,
            key_display="[",
        ),
        Command(
            f"{prefix}.smooth_more",
            "right_square_bracket",
            "smooth_more",
            "More smooth",
            "Increase the smoothing weight.",
            show=False,
            key_display="]",
        ),
        Command(f"{prefix}.log_scale", "L", "log_scale", "Log y", "Toggle a logarithmic y axis."),
        Command(
            f"{prefix}.x_axis",
            "x",
            "x_axis",
            "X axis",
            "Cycle the x axis: step, epoch, relative time.",
        ),
    )


PANE_TITLES: tuple[str, ...] = (
    "Curves",
    "Overview",
    "Early stopping",
    "Gradients",
    "System",
    "Output",
    "Samples",
)
"""The run view's panes, in number-key order."""

RUN_COMMANDS: tuple[Command, ...] = (
    *_plot_commands("run"),
    Command(
        "run.raw",
        "r",
        "raw",
        "Raw",
        "Show or hide the faint raw lines behind the smoothed ones.",
    ),
    Command(
        "run.cursor",
        "c",
        "cursor",
        "Cursor",
        "Show or hide a cursor: every series' value at one x.",
    ),
    Command(
        "run.cursor_left",
        "left",
        "move_cursor(-1)",
        "Move",
        "Move the cursor left (shift: ten times as far).",
        key_display="←→",
        palette=False,
        priority=True,
    ),
    Command(
        "run.cursor_right",
        "right",
        "move_cursor(1)",
        "Cursor right",
        "Move the cursor right (shift: ten times as far).",
        show=False,
        palette=False,
        priority=True,
    ),
    Command(
        "run.cursor_far_left",
        "shift+left",
        "move_cursor(-10)",
        "Cursor far left",
        "Move the cursor ten columns left.",
        show=False,
        palette=False,
        priority=True,
    ),
    Command(
        "run.cursor_far_right",
        "shift+right",
        "move_cursor(10)",
        "Cursor far right",
        "Move the cursor ten columns right.",
        show=False,
        palette=False,
        priority=True,
    ),
    Command(
        "run.next_plots",
        "p",
        "next_plots",
        "More plots",
        "Show the next page of plots, when they do not all fit.",
    ),
    Command(
        "run.older_sample",
        "comma",
        "older_sample",
        "Older",
        "Show the previous sample (Samples pane).",
        key_display=",",
    ),
    Command(
        "run.newer_sample",
        "full_stop",
        "newer_sample",
        "Newer",
        "Show the next sample (Samples pane).",
        key_display=".",
    ),
    Command("run.zoom", "z", "zoom", "Zoom", "Maximise the current pane, or show them all again."),
    Command("run.next_pane", "tab", "next_pane", "Next pane", "Move to the next pane.", show=False),
    Command(
        "run.previous_pane",
        "shift+tab",
        "previous_pane",
        "Previous pane",
        "Move to the previous pane.",
        show=False,
    ),
    *(
        Command(
            f"run.pane_{number}",
            str(number),
            f"show_pane({number})",
            f"Pane {number}: {title}",
            f"Show the {title.lower()} pane.",
            show=False,
        )
        for number, title in enumerate(PANE_TITLES, start=1)
    ),
    Command("run.stop", "S", "stop", "Stop", "Ask this run to stop (it saves a checkpoint first)."),
    Command("run.resume", "R", "resume", "Resume", "Resume this run from its last checkpoint."),
    Command("run.back", "escape", "back", "Back", "Back to the experiments."),
)

COMPARE_COMMANDS: tuple[Command, ...] = (
    *_plot_commands("compare"),
    Command(
        "compare.raw",
        "r",
        "raw",
        "Raw",
        "Show or hide each run's faint raw line behind its smoothed one.",
    ),
    Command("compare.next_tag", "t", "next_tag", "Next metric", "Show the next metric."),
    Command(
        "compare.previous_tag",
        "T",
        "previous_tag",
        "Previous metric",
        "Show the previous metric.",
        show=False,
    ),
    Command(
        "compare.diff",
        "d",
        "toggle_diff",
        "Differences",
        "Show or hide the experiment fields that differ.",
    ),
    Command("compare.back", "escape", "back", "Back", "Back to the experiments."),
)

BUILDER_COMMANDS: tuple[Command, ...] = (
    Command(
        "builder.down",
        "j",
        "cursor_down",
        "Move",
        "Down a layer; in a form, the next field (a text field takes j as typing: use ↓).",
        key_display="j/k",
        palette=False,
    ),
    Command(
        "builder.up",
        "k",
        "cursor_up",
        "Up",
        "Up a layer; in a form, the field above (in a text field: ↑).",
        show=False,
        palette=False,
    ),
    Command(
        "builder.edit",
        "e,enter",
        "edit_layer",
        "Edit",
        "Edit the selected layer's fields (escape comes back to the stack).",
        key_display="enter",
    ),
    Command("builder.add", "a", "add_layer", "Add", "Add a layer after the selected one."),
    # Insert and Delete are left out of the footer so that it fits 80 columns (help lists them).
    Command(
        "builder.insert", "i", "insert_layer", "Insert", "Insert a layer before it.", show=False
    ),
    Command(
        "builder.delete",
        "d,delete",
        "delete_layer",
        "Delete",
        "Delete the selected layer.",
        show=False,
    ),
    Command(
        "builder.duplicate",
        "y",
        "duplicate_layer",
        "Duplicate",
        "Insert a copy of the selected layer after it.",
        show=False,
    ),
    Command(
        "builder.move_up",
        "K,ctrl+up",
        "move_layer(-1)",
        "Move layer up",
        "Move the selected layer up.",
        show=False,
    ),
    Command(
        "builder.move_down",
        "J,ctrl+down",
        "move_layer(1)",
        "Move layer down",
        "Move the selected layer down.",
        show=False,
    ),
    Command("builder.undo", "u,ctrl+z", "undo", "Undo", "Undo the last edit."),
    Command("builder.redo", "U,ctrl+y", "redo", "Redo", "Redo the last undone edit.", show=False),
    Command(
        "builder.switch_stack",
        "g",
        "switch_stack",
        "Gen/Disc",
        "Show a GAN's other stack (generator or discriminator).",
    ),
    Command(
        "builder.next_pane",
        "tab",
        "next_pane",
        "Pane",
        "Move between the stack, the layer's fields and the training settings.",
        key_display="tab",
    ),
    Command(
        "builder.previous_pane",
        "shift+tab",
        "previous_pane",
        "Previous pane",
        "Move to the previous pane.",
        show=False,
    ),
    Command("builder.save", "ctrl+s", "save", "Save", "Save the experiment file."),
    Command(
        "builder.launch",
        "r",
        "launch",
        "Run",
        "Save, then start training (refused, with the reasons, while dltui check finds problems).",
    ),
    Command(
        "builder.help",
        "question_mark",
        "help",
        "Help",
        "Show every key of the builder.",
        key_display="?",
    ),
    Command("builder.back", "escape", "back", "Back", "Back to the experiments (asks to save)."),
)

HELP_COMMANDS: tuple[Command, ...] = (
    Command(
        "help.close",
        "escape,question_mark,q",
        "dismiss",
        "Close",
        "Close the help.",
        key_display="esc",
    ),
)


def _run(target: object, action: str) -> None:
    # ``run_action`` resolves the action on the screen first, then the app.
    from textual.app import App

    if isinstance(target, App):
        target.call_next(target.run_action, action)
    else:
        app = target.app  # type: ignore[attr-defined]
        app.call_next(app.run_action, action, target)


class DashboardCommands(Provider):
    """Command-palette entries for the screen's commands, the app's, and each theme."""

    def _entries(self) -> list[tuple[str, str, object, str]]:
        screen = self.screen
        entries: list[tuple[str, str, object, str]] = []
        commands: Sequence[Command] = getattr(screen, "COMMANDS_LIST", ())
        for command in commands:
            if command.palette and screen.check_action(command.action, ()) is not False:
                entries.append((command.title, command.help, screen, command.action))
        for command in APP_COMMANDS:
            entries.append((command.title, command.help, self.app, command.action))
        # Only themes that passed the theme check (see `DashboardApp.offered_themes`).
        offered = getattr(self.app, "offered_themes", None)
        for name in offered if offered is not None else sorted(self.app.available_themes):
            shown = printable(name, keep_newlines=False)
            action = f"set_theme({name!r})"
            entries.append((f"Theme: {shown}", f"Switch to the {shown} theme.", self.app, action))
        return entries

    async def discover(self) -> Hits:
        """Everything, before the user types."""
        for title, help_text, target, action in self._entries():
            if not title.startswith("Theme: "):
                yield DiscoveryHit(title, partial(_run, target, action), help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose title matches ``query``, best first."""
        matcher = self.matcher(query)
        for title, help_text, target, action in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(_run, target, action),
                    text=title,
                    help=help_text,
                )
