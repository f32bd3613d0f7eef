"""Placeholder router (filled by another helper of issue 16)."""
from fastapi import APIRouter

router = APIRouter()
