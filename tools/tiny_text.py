"""The text side of the tiny models: a film-vocabulary corpus, tokenizers trained on it
offline (T5/UMT5, Llama, CLIP, in canonical order so builds are byte-identical), and tiny
random text encoders for them, made with `tools.tiny_parts.seeded`. Used by
`tools.tiny_models` and the builders beside it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

from tools.tiny_parts import seeded

# Prompts in the register of the storyboard, and the words of the HunyuanVideo prompt template,
# so that real prompts tokenize into a few pieces each rather than into single letters.
CORPUS = """\
A slow dolly in on a lighthouse at dusk while waves crash against the black rocks below.
Wide establishing shot of a harbor town at dawn, fishing boats, gulls, soft mist over the water.
Close-up of a woman smiling by a window, warm light on her face, shallow depth of field.
Medium shot of an old man reading a letter at a kitchen table, morning sun, quiet mood.
The camera pans left across a neon city street at night; rain, puddles, reflections, traffic.
The camera pans right to reveal a mountain valley and a river under a cloudy sky.
Tilt up from the wet road to the tall glass towers; the clouds move fast in a time lapse.
Tilt down from the stars to a small campfire in the desert; sparks rise into the dark.
Truck left along a row of market stalls; colorful fruit, people walking, a dog runs past.
Pedestal up over the wall to show the garden behind it, flowers, bees, green leaves.
Dolly out from a child holding a red balloon in an empty playground; autumn leaves fall.
Zoom in slowly on the eyes of a cat sitting on a wooden fence, golden hour backlight.
Zoom out to a wide aerial view of the forest, a winding road and a lake at sunset.
Orbit around a dancer spinning on a stage, spotlight, smoke, deep blue shadows.
Orbit left around a vintage car parked by the sea; chrome, sand, palm trees, bright noon.
Handheld shot following a runner through a crowded train station; shaky camera, motion blur.
Static tripod shot of a candle flickering on a table; the room is dark and still.
Drone shot flying low over the ocean toward a cliff; white foam, blue water, seabirds.
Tracking shot of a horse galloping across a snowy field; breath steams in the cold air.
Over the shoulder shot of two friends talking in a cafe; coffee cups, soft music, laughter.
Low angle shot of a giant robot walking through the city; dust, debris, dramatic light.
High angle shot of a chess board as a hand moves the queen; crisp focus, film grain.
Point of view shot from a bicycle riding down a hill; trees, sunlight, lens flare.
Slow motion shot of water drops hitting a leaf; macro lens, bokeh, morning dew.
Cinematic shot of a spaceship leaving a red planet; stars, engine glow, wide lens.
Rack focus from the flowers in the foreground to the girl in the background.
A dutch angle shot of a detective in a rain coat under a street lamp, film noir style.
Steadicam shot moving through a busy kitchen; chefs cook, steam, fire, shining knives.
Crane shot rising above a wedding party in a vineyard; lights, music, people dancing.
The scene cuts to black; fade in on a quiet beach; the tide comes in and goes out.
Anime style, watercolor style, photorealistic, 35mm film, 4k, high detail, natural colors.
Documentary footage, cinematic lighting, soft contrast, warm tones, cool tones, pastel.
Describe the video by detailing the following aspects: the main content and theme of
the video; the color, shape, size, texture, quantity, text, and spatial relationships of
the objects; actions, events, behaviors, temporal relationships, physical movement changes
of the objects; background environment, light, style and atmosphere; camera angles,
movements, and transitions used in the video. System user assistant.
Bad quality, blurry, distorted, low resolution, worst quality, jpeg artifacts, watermark,
static, overexposed, underexposed, ugly, deformed, extra fingers, still picture, subtitles.
Shot 1 of 12, take 3: 24 fps, 1/48 shutter, f/2.8, 50mm, ISO 800, 5600K, 16:9 (or 2.39:1)!
ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz 0123456789 "quotes" #hash $5 @ 100%
& * + = ? [ ] { } < > | ~ ^ ` _ \\ / -- 'a' "b" -- what? yes! no... INT. DAY - EXT. NIGHT
"""

# HunyuanVideo's prompt template marks system and user turns with these tokens.
HUNYUAN_TEMPLATE_TOKENS = ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
LLAVA_IMAGE_TOKEN = "<image>"
LLAVA_TEMPLATE_WORDS = ["system", "user", "assistant", "\n\n"]


def corpus_lines() -> list[str]:
    return [line.strip() for line in CORPUS.splitlines() if line.strip()]


def train(backend, trainer) -> dict[str, Any]:
    """Train a `tokenizers` backend on the corpus; its model, as JSON."""
    with _single_threaded_tokenizers():
        backend.train_from_iterator(corpus_lines(), trainer=trainer)
    return json.loads(backend.to_str())["model"]


def bpe_merges(model: dict[str, Any]) -> list[tuple[str, ...]]:
    """A trained BPE model's merges, as the transformers tokenizer classes take them."""
    return [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]


@contextlib.contextmanager
def _single_threaded_tokenizers() -> Iterator[None]:
    """Tokenizer training sums floats in parallel; one thread makes the scores reproducible."""
    previous = os.environ.get("TOKENIZERS_PARALLELISM")
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("TOKENIZERS_PARALLELISM", None)
        else:
            os.environ["TOKENIZERS_PARALLELISM"] = previous


# --------------------------------------------------------------------------------- tokenizers


def t5_tokenizer(vocab_size: int = 512, model_max_length: int = 512):
    """A T5/UMT5-style tokenizer: SentencePiece Unigram, `<pad>`=0, `</s>`=1, `<unk>`=2."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import T5Tokenizer

    backend = Tokenizer(models.Unigram())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        ]
    )
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=["<pad>", "</s>", "<unk>"],
        unk_token="<unk>",
        max_piece_length=12,
        show_progress=False,
    )
    vocab = [(str(piece), float(score)) for piece, score in train(backend, trainer)["vocab"]]
    vocab = vocab[:3] + _canonical_unigram(vocab[3:])
    # The T5 class rebuilds its backend from this vocabulary, on creation and on loading.
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


def _canonical_unigram(pieces: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Make a trained Unigram vocabulary independent of hash-set order.

    The trainer appends the characters that pruning dropped with scores `min + k * 1e-4`,
    numbering them in hash-set order. Renumber them in sorted order, as SentencePiece does,
    round away float noise and sort by score, ties by text.
    """
    lowest = min(score for _, score in pieces)
    band = [p for p, score in pieces if len(p) == 1 and score < lowest + 0.01]
    rank = {piece: k for k, piece in enumerate(sorted(band))}
    rescored = [
        (piece, round(lowest + rank[piece] * 1e-4 if piece in rank else score, 6))
        for piece, score in pieces
    ]
    return sorted(rescored, key=lambda item: (-item[1], item[0]))


def llama_tokenizer(vocab_size: int = 640, model_max_length: int = 2048, *, llava: bool = False):
    """A Llama-style tokenizer: SentencePiece-like BPE with `<unk>`, `<s>`, `</s>`, `<pad>`.

    With `llava`, it also has the `<image>` placeholder and whole-word tokens for the turn
    names of HunyuanVideo's image-to-video template, which expects `<image>` at position 5:
    `<s> <|start_header_id|> system <|end_header_id|> \\n\\n <image>`.
    """
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers
    from transformers import LlamaTokenizer

    # Byte tokens as in Llama's vocabulary: characters the corpus lacks fall back to them.
    byte_tokens = [f"<0x{value:02X}>" for value in range(256)]
    specials = ["<unk>", "<s>", "</s>", "<pad>", *HUNYUAN_TEMPLATE_TOKENS, *byte_tokens]
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    # Words are split for training so that no merge spans a space, as in SentencePiece.
    backend.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=specials, show_progress=False
    )
    model = train(backend, trainer)
    special = [*HUNYUAN_TEMPLATE_TOKENS, *([LLAVA_IMAGE_TOKEN] if llava else [])]
    tokenizer = LlamaTokenizer(
        vocab=dict(model["vocab"]),
        merges=bpe_merges(model),
        pad_token="<pad>",
        add_bos_token=True,
        additional_special_tokens=special,
        padding_side="right",
        model_max_length=model_max_length,
    )
    if llava:
        tokenizer.add_tokens([AddedToken(word, normalized=False) for word in LLAVA_TEMPLATE_WORDS])
    return tokenizer


def clip_tokenizer(vocab_size: int = 800):
    """A CLIP-style tokenizer: lower-cased byte-level BPE with `</w>` word ends, 77 tokens."""
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    bos, eos = "<|startoftext|>", "<|endoftext|>"
    backend = Tokenizer(models.BPE(unk_token=eos, end_of_word_suffix="</w>"))
    backend.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(
                Regex(
                    r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"
                    r"[^\s\p{L}\p{N}]+"
                ),
                behavior="removed",
                invert=True,
            ),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    # The trainer numbers word-final symbols (`e</w>`) as it meets them in a hash map, and
    # breaks ties between merges by those numbers. Declaring every word-final byte up front,
    # in sorted order, fixes the numbering and so the merges.
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[bos, eos, *(symbol + "</w>" for symbol in alphabet)],
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    model = train(backend, trainer)
    vocab = dict(model["vocab"])
    # Every byte gets a token too, so that no text falls to the unknown token.
    for symbol in alphabet:
        vocab.setdefault(symbol, len(vocab))
    return CLIPTokenizer(
        vocab=vocab,
        merges=bpe_merges(model),
        unk_token=eos,
        bos_token=bos,
        eos_token=eos,
        pad_token=eos,
        model_max_length=77,
    )


# --------------------------------------------------------------------------------- text encoders


def _vocabulary(tokenizer) -> dict[str, Any]:
    """What a Llama or CLIP text model's configuration takes from its tokenizer."""
    return {
        "vocab_size": len(tokenizer),
        "max_position_embeddings": tokenizer.model_max_length,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }


def t5_encoder(tokenizer, *, umt5: bool = False, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (
        (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    )
    config = config_class(
        vocab_size=len(tokenizer),
        d_model=d_model,
        d_kv=8,
        d_ff=32,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=8,
        relative_attention_max_distance=32,
        dropout_rate=0.0,
        feed_forward_proj="gated-gelu",
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    return seeded(model_class, config)


# The layers of the tiny decoder-only text encoders (Llama, Qwen2.5-VL).
DECODER_LAYERS: dict[str, Any] = {
    "intermediate_size": 32,
    "num_hidden_layers": 3,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def llama_config(tokenizer, hidden_size: int = 16):
    """The Llama text model of HunyuanVideo's text encoder (alone, or inside LLaVA)."""
    from transformers import LlamaConfig

    return LlamaConfig(
        **_vocabulary(tokenizer), **DECODER_LAYERS, hidden_size=hidden_size, rms_norm_eps=1e-5
    )


def llama_encoder(tokenizer, hidden_size: int = 16):
    from transformers import LlamaModel

    return seeded(LlamaModel, llama_config(tokenizer, hidden_size))


def clip_encoder(tokenizer, hidden_size: int = 8):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(
        **_vocabulary(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=16,
        projection_dim=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=2,
        hidden_act="quick_gelu",
    )
    return seeded(CLIPTextModel, config)
