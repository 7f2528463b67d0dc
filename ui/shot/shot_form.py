"""The prompt panel's form: its widgets in groups (prompt, bible, generation, what the model
reads, LoRAs, image: the start, end and inner keyframes, continuity), built once, each
change wired to one undoable edit of the current shot.

`PromptPanel` builds it through `ShotForm`; the choices it offers (rates, sizes, profiles,
camera modes) are here too.
"""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.jobs import CameraMode, Profile, Quantization
from ui.shot.dialogue_view import DialogueView
from ui.shot.lora_list import LoraList
from ui.shot.model_text import ModelText
from ui.shot.shot_pictures import ShotPictures
from ui.widgets.elided_label import ElidedLabel
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.keyframe_drop import KeyframeDrop

FPS_CHOICES = [Fraction(n) for n in (12, 15, 16)] + [Fraction(24000, 1001)]
FPS_CHOICES += [Fraction(n) for n in (24, 25, 30, 50, 60)]
SIZE_PRESETS = [(832, 480), (480, 832), (1280, 720), (720, 1280), (960, 544), (512, 512)]
SEED_MAX = 2**31 - 1
SIZE_STEP = 16
WARNING = "#ec963c"  # amber: readable on the dark theme and on a light one
PROFILE_LABELS = {
    Profile.QUALITY: ("Quality", "Full steps at full precision"),
    Profile.FAST: ("Fast", "Caching and faster attention: quicker, at nearly full quality"),
    Profile.LOWVRAM: ("Low VRAM", "Offloads weights to fit small graphics cards (slower)"),
    Profile.DRAFT: (
        "Draft",
        "A quick look: the model's draft recipe (a few steps, no guidance, half the area); "
        "finalize the take you like from the Takes panel",
    ),
}
QUANTIZATION_LABELS = {
    Quantization.NONE: ("Full precision", "The weights as published (bf16 on a GPU)"),
    Quantization.INT8: ("int8", "int8 weight-only (torchao): about half the weights' memory"),
    Quantization.NF4: ("NF4 4-bit", "4-bit NF4 (bitsandbytes, NVIDIA GPUs only): about a quarter"),
    Quantization.GGUF: ("GGUF", "The transformer from the model's GGUF file, where one is known"),
}
CAMERA_LABELS = {
    CameraMode.PROMPT: ("Prompt", "The camera move is said in words appended to the prompt"),
    CameraMode.GUIDED: ("Guided", "The previz drives the structure of the render"),
    CameraMode.KEYFRAME: ("Keyframe", "Image to video from the keyframe, with camera words"),
}


def fps_label(fps: Fraction) -> str:
    return str(fps.numerator) if fps.denominator == 1 else f"{float(fps):.3f}".rstrip("0")


def rate_note(edit: Fraction, model: Fraction | None) -> str:
    """ "24 fps edit · model renders 16 fps, resampled": the edit's rate and the model's."""
    text = f"{fps_label(edit)} fps edit · "
    if model is None:
        return text + "model rate unknown"
    text += f"model renders {fps_label(model)} fps"
    return text if model == edit else text + ", resampled"


def snap_size(value: int) -> int:
    return max(SIZE_STEP, round(value / SIZE_STEP) * SIZE_STEP)


class ShotForm:
    """Builds the prompt panel's widgets (`_build`); the panel supplies the slots they call."""

    def _build(self) -> None:
        self.empty_label = QLabel("No shot selected: add or select a shot in the storyboard.")
        self.empty_label.setWordWrap(True)
        self.body = QWidget()
        column = QVBoxLayout(self.body)
        column.setContentsMargins(4, 4, 4, 4)

        prompt = self._group(column, "Prompt")
        self.title_edit = QLineEdit(placeholderText="Shot title")
        self.title_edit.textEdited.connect(lambda t: self._set("title", t, merge=True))
        self.prompt_edit = self._text_edit("What the shot shows: subject, action, place, light")
        self.prompt_edit.textChanged.connect(
            lambda: self._set("prompt", self.prompt_edit.toPlainText(), merge=True)
        )
        self.negative_edit = self._text_edit("What to avoid: blurry, text, watermark")
        self.negative_edit.textChanged.connect(
            lambda: self._set("negative_prompt", self.negative_edit.toPlainText(), merge=True)
        )
        prompt.addRow("&Title", self.title_edit)
        prompt.addRow("&Prompt", self.prompt_edit)
        prompt.addRow("&Negative", self.negative_edit)

        bible = self._group(column, "Bible")
        self.characters_list = QListWidget()
        self.characters_list.setToolTip(
            "Characters in this shot; their descriptions join the prompt"
        )
        self.characters_list.itemChanged.connect(self._character_toggled)
        self.style_combo = QComboBox(toolTip="The look of the shot, from the bible")
        self.style_combo.currentIndexChanged.connect(
            lambda: self._set("style", self.style_combo.currentData() or None)
        )
        # The window connects it to the Characters and styles window.
        self.bible_button = QToolButton(text="Edit characters and styles…")
        self.bible_button.setToolTip("Add, describe and give pictures and LoRAs to the bible")
        bible.addRow("C&haracters", self.characters_list)
        bible.addRow("St&yle", self.style_combo)
        bible.addRow("", self.bible_button)
        self.dialogue_view = DialogueView(WARNING)
        column.addWidget(self.dialogue_view)

        gen = self._group(column, "Generation")
        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(14)
        self.model_combo.currentIndexChanged.connect(
            lambda: self._set("model_id", self.model_combo.currentData())
        )
        self.model_warning = self._warning_label()
        # The window connects it to the Models window (download, verify, delete models).
        self.models_button = QToolButton(text="Models…")
        self.models_button.setToolTip("Download, check and delete models")
        self.profile_combo = self._enum_combo(PROFILE_LABELS, "profile")
        self.quantization_combo = self._enum_combo(QUANTIZATION_LABELS, "quantization")
        self.quantization_combo.setToolTip(
            "How the model's weights are stored while it renders: smaller for small GPUs"
        )
        self.camera_combo = self._enum_combo(CAMERA_LABELS, "camera_mode")
        self.seed_spin = QSpinBox(minimum=0, maximum=SEED_MAX, keyboardTracking=False)
        self.seed_spin.setToolTip("The noise seed: the same seed and settings give the same take")
        self.seed_spin.valueChanged.connect(lambda v: self._set("seed", v, merge=True))
        self.lock_button = QToolButton(text="Lock", checkable=True)
        self.lock_button.setToolTip("Locked: every render keeps this seed; Randomise is off")
        self.lock_button.toggled.connect(lambda on: self._set("seed_locked", on))
        self.randomise_button = QPushButton("&Randomise")
        self.randomise_button.setToolTip("Draw a new random seed (unlock the seed first)")
        self.randomise_button.clicked.connect(self.randomise_seed)
        self.duration_spin = QDoubleSpinBox(
            minimum=0.5, maximum=120.0, singleStep=0.5, decimals=2, suffix=" s"
        )
        self.duration_spin.setKeyboardTracking(False)
        self.duration_spin.valueChanged.connect(lambda v: self._set("duration", v, merge=True))
        self.fps_combo = QComboBox(toolTip="Frames per second of the shot")
        for fps in FPS_CHOICES:
            self.fps_combo.addItem(fps_label(fps), str(fps))
        self.fps_combo.currentIndexChanged.connect(
            lambda: self._set("fps", Fraction(self.fps_combo.currentData()))
        )
        self.rate_label = QLabel(wordWrap=True)
        self.width_spin, self.height_spin = self._size_spin("width"), self._size_spin("height")
        self.preset_combo = QComboBox(toolTip="Common sizes for video models")
        self.preset_combo.addItem("Custom", "")
        for w, h in SIZE_PRESETS:
            self.preset_combo.addItem(f"{w}×{h}", f"{w}x{h}")
        self.preset_combo.currentIndexChanged.connect(self._preset_chosen)
        self.estimate_label = QLabel(wordWrap=True)
        self.estimate_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        gen.addRow("&Model", self._row(self.model_combo, self.models_button))
        gen.addRow("", self.model_warning)
        gen.addRow("Pro&file", self.profile_combo)
        gen.addRow("&Quantization", self.quantization_combo)
        gen.addRow("&Camera", self.camera_combo)
        gen.addRow("&Seed", self._row(self.seed_spin, self.lock_button, self.randomise_button))
        gen.addRow("&Duration", self.duration_spin)
        gen.addRow("&FPS", self._row(self.fps_combo, self.rate_label))
        times = QLabel("×")
        # The preset goes under the size in a narrow panel rather than widening it.
        size = QWidget()
        size_flow = FlowLayout(size)
        size_flow.setContentsMargins(0, 0, 0, 0)
        size_flow.addWidget(self._row(self.width_spin, times, self.height_spin))
        size_flow.addWidget(self.preset_combo)
        size.setFocusProxy(self.width_spin)
        gen.addRow("Si&ze", size)
        gen.addRow("Estimate", self.estimate_label)
        self.model_text = ModelText(self.document, self.catalog)
        column.addWidget(self.model_text)

        loras = self._group(column, "LoRAs")
        self.lora_list = LoraList(self.document)
        loras.addRow(self.lora_list)

        image = self._group(column, "Image")
        self.keyframe_drop = KeyframeDrop()
        self.keyframe_drop.fileDropped.connect(self.set_keyframe_file)
        self.browse_button = QPushButton("&Browse…", toolTip="Choose a keyframe image")
        self.browse_button.clicked.connect(self._browse)
        self.clear_button = QPushButton("Clear", toolTip="Remove the keyframe from the shot")
        self.clear_button.clicked.connect(lambda: self._set("keyframe", None))
        self.image_message = self._warning_label()
        image.addRow("&Keyframe", self.keyframe_drop)
        image.addRow("", self._row(self.browse_button, self.clear_button))
        image.addRow("", self.image_message)
        # The end picture and the keyframes inside the shot.
        self.pictures = ShotPictures(self.document)
        image.addRow(self.pictures)

        continuity = self._group(column, "Continuity")
        self.continue_check = QCheckBox("Continue from the previous shot")
        self.continue_check.setToolTip("Start from the last frame of the previous shot's take")
        self.continue_check.toggled.connect(lambda on: self._set("continue_from_previous", on))
        self.match_check = QCheckBox("Match colour at the join")
        self.match_check.setToolTip("Match colour and exposure to the previous shot's last frame")
        self.match_check.toggled.connect(lambda on: self._set("match_colour", on))
        continuity.addRow(self.continue_check)
        continuity.addRow(self.match_check)
        column.addStretch(1)

        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        scroll.setWidget(self.body)
        self.variations_spin = QSpinBox(minimum=1, maximum=16, prefix="× ")
        self.variations_spin.setToolTip("Render this many takes, each with the next seed")
        self.variations_spin.valueChanged.connect(self._variations_changed)
        self.render_button = QPushButton("Render shot", toolTip="Render the shot (Ctrl+Enter)")
        self.render_button.setDefault(True)
        self.render_button.clicked.connect(self.request_render)
        self.job_label = ElidedLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty_label)
        layout.addWidget(scroll, 1)
        layout.addWidget(self._row(self.job_label, self.variations_spin, self.render_button))
        self._editors = [
            self.title_edit, self.prompt_edit, self.negative_edit, self.characters_list,
            self.style_combo, self.model_combo, self.profile_combo, self.quantization_combo,
            self.camera_combo,
            self.seed_spin, self.lock_button, self.duration_spin, self.fps_combo,
            self.width_spin, self.height_spin, self.preset_combo, self.continue_check,
            self.match_check,
        ]  # fmt: skip

    def _group(self, column: QVBoxLayout, title: str) -> QFormLayout:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        form.setContentsMargins(6, 6, 6, 6)
        column.addWidget(box)
        return form

    def _row(self, *widgets: QWidget) -> QWidget:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in widgets:
            layout.addWidget(widget, 1 if isinstance(widget, QLabel | QComboBox) else 0)
        # The row's mnemonic (Alt+F for FPS) focuses its first editor, not the bare row.
        editors = [w for w in widgets if w.focusPolicy() != Qt.NoFocus]
        if editors:
            row.setFocusProxy(editors[0])
        return row

    def _text_edit(self, placeholder: str) -> QPlainTextEdit:
        edit = QPlainTextEdit(placeholderText=placeholder, tabChangesFocus=True)
        edit.setMinimumHeight(56)
        edit.setMaximumHeight(110)
        return edit

    def _warning_label(self) -> QLabel:
        label = QLabel(wordWrap=True, visible=False)
        self._paint_warning(label, True)
        return label

    @staticmethod
    def _paint_warning(label: QLabel, warn: bool) -> None:
        # Only the warning has a colour of its own; plain text follows the theme.
        label.setStyleSheet(f"color: {WARNING};" if warn else "")

    def _enum_combo(self, labels: dict, name: str) -> QComboBox:
        combo = QComboBox()
        for value, (text, tip) in labels.items():
            combo.addItem(text, value.value)
            combo.setItemData(combo.count() - 1, tip, Qt.ToolTipRole)
        kind = type(next(iter(labels)))
        combo.currentIndexChanged.connect(lambda: self._set(name, kind(combo.currentData())))
        return combo

    def _size_spin(self, name: str) -> QSpinBox:
        spin = QSpinBox(minimum=SIZE_STEP, maximum=8192, singleStep=SIZE_STEP, suffix=" px")
        spin.setKeyboardTracking(False)
        spin.setToolTip(f"Frame {name} in pixels, a multiple of {SIZE_STEP}")
        spin.valueChanged.connect(lambda v: self._set(name, snap_size(v), merge=True))
        return spin
