"""Supervised contrastive loss. Details, DDP and departures from [0]'s code:
docs/methods.md, "SupCon and its loss".

- [0] SupCon, Khosla et al. 2020, https://arxiv.org/abs/2004.11362
- [1] SimCLR, Chen et al. 2020, https://arxiv.org/abs/2002.05709
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from lightly.utils import dist
from torch import Tensor, nn
from torch import distributed as torch_dist


class SupConLoss(nn.Module):
    """SupCon's L_out (eq. 2 of [0]): the log-likelihood of the positives averaged
    outside the log, then over anchors.

    Args:
        temperature: Softmax temperature tau (0.1 in [0]).
        gather_distributed: Gather the contrast set from all DDP ranks.
    """

    def __init__(self, temperature: float = 0.1, gather_distributed: bool = False) -> None:
        super().__init__()
        if abs(temperature) < 1e-8:
            raise ValueError(f"Illegal temperature: abs({temperature}) < 1e-8")
        if gather_distributed and not torch_dist.is_available():
            raise ValueError("gather_distributed=True but torch.distributed is not available.")
        self.temperature = temperature
        self.gather_distributed = gather_distributed

    def forward(self, features: Tensor | Sequence[Tensor], labels: Tensor | None = None) -> Tensor:
        """Supervised contrastive loss of a batch of views.

        Args:
            features: Embeddings ``(B, V, D)`` (V views of B samples) or a list of V
                tensors ``(B, D)``; normalized here.
            labels: Class of each sample ``(B,)``; without labels every sample is its
                own class (SimCLR).

        Returns:
            The scalar loss, averaged over this rank's anchors that have a positive.
        """
        if not isinstance(features, Tensor):
            features = torch.stack(list(features), dim=1)
        if features.ndim != 3:
            raise ValueError(f"features must be (B, V, D), got shape {tuple(features.shape)}")
        batch_size, num_views, _ = features.shape
        features = F.normalize(features, dim=-1)

        distributed = self.gather_distributed and dist.world_size() > 1
        if distributed:
            all_features = torch.cat(dist.gather(features), dim=0)  # (N, V, D)
            offset = dist.rank() * batch_size
        else:
            all_features, offset = features, 0
        num_samples = all_features.shape[0]

        if labels is None:
            labels = torch.arange(batch_size, device=features.device) + offset
            all_labels = torch.arange(num_samples, device=features.device)
        else:
            all_labels = torch.cat(dist.gather(labels)) if distributed else labels
        mask = labels.view(-1, 1) == all_labels.view(1, -1)  # (B, N): positives of which

        # View-major rows: anchor v * B + i is view v of local sample i; contrast column
        # v * N + j is view v of sample j of the contrast set.
        anchors = features.transpose(0, 1).reshape(num_views * batch_size, -1)
        contrast = all_features.transpose(0, 1).reshape(num_views * num_samples, -1)
        logits = anchors @ contrast.T / self.temperature  # (V * B, V * N)

        rows = torch.arange(num_views * batch_size, device=features.device)
        self_cols = (rows // batch_size) * num_samples + offset + rows % batch_size
        is_self = torch.zeros_like(logits, dtype=torch.bool)
        is_self[rows, self_cols] = True
        positive = mask.repeat(num_views, num_views) & ~is_self

        log_prob = logits.masked_fill(is_self, float("-inf")).log_softmax(dim=1)
        num_positives = positive.sum(dim=1)
        positive_log_prob = log_prob.masked_fill(~positive, 0.0).sum(dim=1)
        mean_log_prob_pos = positive_log_prob / num_positives.clamp(min=1)
        has_positive = num_positives > 0
        if not has_positive.any():
            return logits.sum() * 0.0  # no positive pair anywhere: zero, still in the graph
        return -mean_log_prob_pos[has_positive].mean()
