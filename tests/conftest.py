import os

import pytest
import torch

from tests._parity import SHARED

# Same thread count as the parity fixtures were produced with (and as the CI machine has).
torch.set_num_threads(int(os.environ.get("VTON_TEST_THREADS", "2")))


@pytest.fixture(scope="session")
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} not found (the tests read fixtures and samples from ../shared)")
    return SHARED


@pytest.fixture
def cuda_fp32_exact():
    """On GPU, disable TF32 so fp32 convolutions and matmuls are exact enough for the parity tolerances."""
    if not torch.cuda.is_available():
        pytest.skip("CUDA not available")
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
