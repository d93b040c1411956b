"""tg-edge: offline machine translation with translation LLMs through llama.cpp.

>>> from tg_edge import Translator
>>> translator = Translator()          # the demo model, or Translator("model.gguf")
>>> translator.translate("Where is the train station?", source="en", target="de")
"""

from .errors import (
    DetectionError,
    ImagesUnsupported,
    InputError,
    LanguageError,
    ModelError,
    ProjectorError,
    PromptError,
    TgEdgeError,
    TranslationIncomplete,
)
from .languages import Detection, Language, detect_language, resolve_language, supported_languages
from .models import available_models
from .runtime import TranslatorStats
from .translator import (
    ImageTranslation,
    SegmentResult,
    Translation,
    TranslationOptions,
    TranslationStream,
    Translator,
    translate,
)

__version__ = "0.1.0"

__all__ = [
    "Detection",
    "DetectionError",
    "ImageTranslation",
    "ImagesUnsupported",
    "InputError",
    "Language",
    "LanguageError",
    "ModelError",
    "ProjectorError",
    "PromptError",
    "SegmentResult",
    "TgEdgeError",
    "Translation",
    "TranslationIncomplete",
    "TranslationOptions",
    "TranslationStream",
    "Translator",
    "TranslatorStats",
    "__version__",
    "available_models",
    "detect_language",
    "resolve_language",
    "supported_languages",
    "translate",
]
