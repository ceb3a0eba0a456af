"""The sandbox's price table: how synthetic usage becomes synthetic cost line items.

Why a table of its own: the Costs API is the invoice-aligned source and the sandbox must
derive it from its usage the same way every time, so that tests can recompute any cost
row from usage with nothing but this module. Prices are list prices of the real models
(USD, close to OpenAI's public pricing); exactness matters more than currency.

Every price is a `Decimal`. A row's amount is `quantity x unit price`, rounded half-up to
the nano-dollar (9 decimal places, the warehouse's `DECIMAL(18,9)`); `amount_nanos` below
does that in integers so it can run vectorized over millions of rows. Service tier does
not change the price (kept simple on purpose); batch traffic costs half of the text prices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

#: picodollars per dollar: unit prices are held as integer picodollars per unit
PICO = 10**12
_PER_MILLION = 10**6


@dataclass(frozen=True)
class TokenPrice:
    """Prices per 1M tokens of a completion-style model.

    `audio_input`/`audio_output` are set for audio models only. `batch=False` marks a model
    that takes no batch traffic (audio/realtime). Batch prices are half of the text prices.
    """

    input: Decimal
    cached_input: Decimal
    output: Decimal
    audio_input: Decimal | None = None
    audio_output: Decimal | None = None
    batch: bool = True


def _tp(i: str, c: str, o: str, ai: str | None = None, ao: str | None = None) -> TokenPrice:
    return TokenPrice(
        Decimal(i),
        Decimal(c),
        Decimal(o),
        Decimal(ai) if ai else None,
        Decimal(ao) if ao else None,
        batch=ai is None,
    )


#: Completion models in the order sizes take them (tiny takes the first 4, large all 40).
#: The 4th is an audio model so that even `tiny` has audio tokens.
COMPLETION_MODELS: dict[str, TokenPrice] = {
    "gpt-4o-2024-08-06": _tp("2.50", "1.25", "10.00"),
    "gpt-4o-mini-2024-07-18": _tp("0.15", "0.075", "0.60"),
    "gpt-4.1-2025-04-14": _tp("2.00", "0.50", "8.00"),
    "gpt-4o-audio-preview-2024-12-17": _tp("2.50", "1.25", "10.00", "40.00", "80.00"),
    "gpt-5-2025-08-07": _tp("1.25", "0.125", "10.00"),
    "gpt-5-mini-2025-08-07": _tp("0.25", "0.025", "2.00"),
    "o3-2025-04-16": _tp("2.00", "0.50", "8.00"),
    "o4-mini-2025-04-16": _tp("1.10", "0.275", "4.40"),
    "gpt-4.1-mini-2025-04-14": _tp("0.40", "0.10", "1.60"),
    "gpt-4.1-nano-2025-04-14": _tp("0.10", "0.025", "0.40"),
    "gpt-5-nano-2025-08-07": _tp("0.05", "0.005", "0.40"),
    "o1-2024-12-17": _tp("15.00", "7.50", "60.00"),
    "o3-mini-2025-01-31": _tp("1.10", "0.55", "4.40"),
    "gpt-4o-2024-11-20": _tp("2.50", "1.25", "10.00"),
    "gpt-4o-2024-05-13": _tp("5.00", "2.50", "15.00"),
    "gpt-4-turbo-2024-04-09": _tp("10.00", "5.00", "30.00"),
    "gpt-3.5-turbo-0125": _tp("0.50", "0.25", "1.50"),
    "gpt-4o-mini-audio-preview-2024-12-17": _tp("0.15", "0.075", "0.60", "10.00", "20.00"),
    "gpt-realtime-2025-08-28": _tp("4.00", "0.40", "16.00", "32.00", "64.00"),
    "chatgpt-4o-latest": _tp("5.00", "2.50", "15.00"),
    "gpt-5.1-2025-11-13": _tp("1.25", "0.125", "10.00"),
    "o3-pro-2025-06-10": _tp("20.00", "10.00", "80.00"),
    "codex-mini-latest": _tp("1.50", "0.375", "6.00"),
    "gpt-4.5-preview-2025-02-27": _tp("75.00", "37.50", "150.00"),
    "o1-mini-2024-09-12": _tp("1.10", "0.55", "4.40"),
    "gpt-4-0613": _tp("30.00", "15.00", "60.00"),
    "gpt-4o-search-preview-2025-03-11": _tp("2.50", "1.25", "10.00"),
    "gpt-5-codex": _tp("1.25", "0.125", "10.00"),
    "gpt-5-chat-latest": _tp("1.25", "0.125", "10.00"),
    "o4-mini-deep-research-2025-06-26": _tp("2.00", "0.50", "8.00"),
    "ft:gpt-4o-mini-2024-07-18:sandbox:support:A1b2C3d4": _tp("0.30", "0.15", "1.20"),
    "ft:gpt-4o-mini-2024-07-18:sandbox:triage:E5f6G7h8": _tp("0.30", "0.15", "1.20"),
    "ft:gpt-4o-2024-08-06:sandbox:legal:I9j0K1l2": _tp("3.75", "1.875", "15.00"),
    "ft:gpt-4.1-mini-2025-04-14:sandbox:search:M3n4O5p6": _tp("0.80", "0.20", "3.20"),
    "ft:gpt-4.1-nano-2025-04-14:sandbox:router:Q7r8S9t0": _tp("0.20", "0.05", "0.80"),
    "ft:gpt-4.1-2025-04-14:sandbox:sql:U1v2W3x4": _tp("3.00", "0.75", "12.00"),
    "ft:gpt-3.5-turbo-0125:sandbox:legacy:Y5z6A7b8": _tp("3.00", "1.50", "6.00"),
    "ft:gpt-4o-mini-2024-07-18:sandbox:extract:C9d0E1f2": _tp("0.30", "0.15", "1.20"),
    "ft:o4-mini-2025-04-16:sandbox:grader:G3h4I5j6": _tp("4.00", "1.00", "16.00"),
    "ft:gpt-4.1-mini-2025-04-14:sandbox:summarize:K7l8M9n0": _tp("0.80", "0.20", "3.20"),
}

#: Embedding models, USD per 1M input tokens.
EMBEDDING_MODELS: dict[str, Decimal] = {
    "text-embedding-3-small": Decimal("0.02"),
    "text-embedding-3-large": Decimal("0.13"),
    "text-embedding-ada-002": Decimal("0.10"),
}

#: Moderation models are free: their usage produces no cost rows.
MODERATION_MODELS: tuple[str, ...] = ("omni-moderation-2024-09-26", "text-moderation-007")

IMAGE_SIZES: tuple[str, ...] = ("256x256", "512x512", "1024x1024", "1792x1792", "1024x1792")
IMAGE_SOURCES: tuple[str, ...] = ("image.generation", "image.edit", "image.variation")

#: Image models, USD per image by size.
IMAGE_MODELS: dict[str, dict[str, Decimal]] = {
    "dall-e-3": {
        "256x256": Decimal("0.016"),
        "512x512": Decimal("0.018"),
        "1024x1024": Decimal("0.040"),
        "1792x1792": Decimal("0.120"),
        "1024x1792": Decimal("0.080"),
    },
    "gpt-image-1": {
        "256x256": Decimal("0.011"),
        "512x512": Decimal("0.011"),
        "1024x1024": Decimal("0.042"),
        "1792x1792": Decimal("0.167"),
        "1024x1792": Decimal("0.063"),
    },
}

#: Text-to-speech models, USD per 1M characters.
SPEECH_MODELS: dict[str, Decimal] = {"tts-1": Decimal("15.00"), "tts-1-hd": Decimal("30.00")}

#: Transcription models, USD per second of audio.
TRANSCRIPTION_MODELS: dict[str, Decimal] = {
    "whisper-1": Decimal("0.0001"),
    "gpt-4o-mini-transcribe": Decimal("0.00005"),
}

VECTOR_STORE_GIB_DAY = Decimal("0.10")  # USD per GiB-day of vector store storage
CODE_INTERPRETER_SESSION = Decimal("0.03")  # USD per session
FILE_SEARCH_CALL = Decimal("0.0025")  # USD per file search tool call
WEB_SEARCH_CALL = Decimal("0.01")  # USD per web search tool call (num_requests)

CONTEXT_LEVELS: tuple[str, ...] = ("low", "medium", "high")

#: Org-level subscription line items: a fixed price per seat per day, project_id None.
SEAT_LINE_ITEMS: dict[str, Decimal] = {
    "ChatGPT Team seats": Decimal("0.986301370"),  # $30/seat/month as a daily rate
    "ChatGPT Enterprise seats": Decimal("1.972602740"),  # $60/seat/month as a daily rate
}

VECTOR_STORE_LINE_ITEM = "Vector store storage"
CODE_INTERPRETER_LINE_ITEM = "Code interpreter sessions"
FILE_SEARCH_LINE_ITEM = "File search tool calls"


def is_subscription(line_item: str) -> bool:
    """True for seat/subscription line items (they never go through an API gateway)."""
    return line_item in SEAT_LINE_ITEMS


def pico(price: Decimal, per: int = 1) -> int:
    """Integer picodollars per single unit for `price` USD per `per` units; must be exact."""
    value = price * PICO / per
    if value != value.to_integral_value():
        raise ValueError(f"price {price} per {per} is not a whole number of picodollars")
    return int(value)


def token_pico(price_per_million: Decimal) -> int:
    """Picodollars per token for a price in USD per 1M tokens."""
    return pico(price_per_million, _PER_MILLION)


def batch_pico(price_per_million: Decimal) -> int:
    """Picodollars per token at the batch price (half the list price); exact by construction."""
    return pico(price_per_million / 2, _PER_MILLION)


def amount_nanos(quantity: np.ndarray, unit_pico: np.ndarray | int) -> np.ndarray:
    """Vectorized `quantity x unit price`, rounded half-up to integer nano-dollars.

    quantity and unit prices are non-negative integers; int64 is enough because a cost
    row stays below $100,000 (1e14 nano-dollars) and unit prices below $1 a unit.
    """
    q = np.asarray(quantity, dtype=np.int64)
    product = q * np.asarray(unit_pico, dtype=np.int64)
    return (product + 500) // 1000


def amount_decimal(quantity: int, unit_price: Decimal) -> Decimal:
    """Reference (non-vectorized) pricing used by tests: Decimal, half-up to 9 places."""
    return (Decimal(quantity) * unit_price).quantize(Decimal("0.000000001"), ROUND_HALF_UP)


def vector_store_nanos(usage_bytes: np.ndarray) -> np.ndarray:
    """One day's storage charge for `usage_bytes`, in nano-dollars, rounded half-up.

    bytes / 2**30 GiB x $0.10 per GiB-day; done in integers: bytes x 1e8 nano / 2**30.
    """
    per_gib_nanos = int(VECTOR_STORE_GIB_DAY * 10**9)
    b = np.asarray(usage_bytes, dtype=np.int64)
    # b < 2**40 (1 TiB) keeps b * 1e8 below 2**63
    return (b * per_gib_nanos + 2**29) // 2**30


def nanos_to_decimal(nanos: int) -> Decimal:
    """Integer nano-dollars as a Decimal with exactly 9 decimal places."""
    return Decimal(int(nanos)).scaleb(-9)
