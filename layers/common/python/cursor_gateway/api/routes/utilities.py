"""Public utilities of the reference (admin-api.md "Utilities"): plain-text values for assembling a token
bundle by hand. No auth, no storage, no upstream call."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from cursor_gateway.services import utilities

router = APIRouter()


@router.get("/gen-uuid", response_class=PlainTextResponse)
def gen_uuid() -> str:
    return utilities.gen_uuid()


@router.get("/gen-hash", response_class=PlainTextResponse)
def gen_hash() -> str:
    return utilities.gen_hash()


@router.get("/gen-checksum", response_class=PlainTextResponse)
def gen_checksum() -> str:
    return utilities.gen_checksum()


@router.get("/get-timestamp-header", response_class=PlainTextResponse)
def get_timestamp_header() -> str:
    return utilities.timestamp_header()
