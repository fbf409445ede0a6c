"""Theorems as pure functions of problem constants, and the registry of claims they make."""

from theory.registry import Claim, ClaimKind, claims, get_claim, register, topics

__all__ = ["Claim", "ClaimKind", "claims", "get_claim", "register", "topics"]
