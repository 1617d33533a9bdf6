"""Given the shipped model files, the numpy embedder reproduces WordLlama's embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orchestrator.clients.embeddings import model_files
from orchestrator.clients.embeddings.embedded import EmbeddedEmbedder
from orchestrator.errors import ConfigurationError

# Reference values computed with wordllama 0.4.0.post1:
# WordLlama.load(config="l2_supercat", dim=256).embed(TEXTS, norm=True)
TEXTS = ["What was our churn rate last quarter?", "Customer retention by cohort", "Write a poem about autumn"]
FIRST_DIMS = [-0.040942, 0.098464, 0.059265, 0.132724, -0.114048, -0.101418]
COSINE_0_1, COSINE_0_2 = 0.200398, 0.182138


def test_embeddings_match_wordllama() -> None:
    vectors = EmbeddedEmbedder().embed(TEXTS)

    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(vectors[0][:6], FIRST_DIMS, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(COSINE_0_1, abs=1e-5)
    assert float(vectors[0] @ vectors[2]) == pytest.approx(COSINE_0_2, abs=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_empty_text_embeds_to_zeros_not_nan() -> None:
    vector = EmbeddedEmbedder().embed([""])

    assert not np.isnan(vector).any()
    assert float(np.abs(vector).sum()) == 0.0


def test_shipped_files_pass_their_checksums() -> None:
    assert model_files.is_complete(model_files.model_dir())


def test_missing_files_are_a_clear_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="model_files"):
        EmbeddedEmbedder(model_dir=tmp_path).embed(["hi"])
