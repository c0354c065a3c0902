"""Images in a chat request, per the runtime config's `vision_ability` (both APIs, before the chat opens):

    none     any image is refused (400 images_disabled)
    base64   inline (base64) images only; an http(s) URL is refused (400 image_url_not_allowed)
    all      http(s) URLs are fetched too, through the guard in `upstream.image_fetch`

The API adapters are pure, so they only mark URL images (`ImagePart.url`); this step turns each into
bytes or into a 400 that names the message and the reason. URL images are fetched concurrently, a few
at a time, and a request may reference at most MAX_URL_IMAGES of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace

from cursor_gateway.domain.chat import ChatRequest, ImagePart, Message
from cursor_gateway.errors import InvalidRequest
from cursor_gateway.settings import Settings
from cursor_gateway.upstream.image_fetch import ImageFetcher

MAX_URL_IMAGES = 20
PARALLEL_FETCHES = 4


class ImageService:
    def __init__(self, settings: Settings, fetcher: ImageFetcher | None = None) -> None:
        self.settings = settings
        self._fetcher = fetcher

    @property
    def fetcher(self) -> ImageFetcher:
        if self._fetcher is None:
            self._fetcher = ImageFetcher(self.settings)
        return self._fetcher

    async def prepare(self, request: ChatRequest, vision_ability: str) -> ChatRequest:
        """`request` with every URL image fetched, or a 400 when the policy or the guard refuses one."""
        with_images = [i for i, m in enumerate(request.messages) if m.images]
        if not with_images:
            return request
        first = with_images[0]
        if vision_ability == "none":
            raise InvalidRequest(
                "Images are disabled on this gateway (vision_ability is 'none')",
                param=f"messages[{first}].content",
                code="images_disabled",
            )
        pending = [(i, image.url) for i, m in enumerate(request.messages) for image in m.images if image.url]
        if not pending:
            return request
        if vision_ability != "all":
            raise InvalidRequest(
                "Image URLs are not enabled on this gateway (vision_ability is 'base64'): "
                "send the image as base64 data",
                param=f"messages[{pending[0][0]}].content",
                code="image_url_not_allowed",
            )
        if len(pending) > MAX_URL_IMAGES:
            raise InvalidRequest(
                f"At most {MAX_URL_IMAGES} image URLs per request", param="messages", code="too_many_images"
            )
        gate = asyncio.Semaphore(PARALLEL_FETCHES)

        async def one(index: int, url: str) -> ImagePart:
            async with gate:
                try:
                    return await self.fetcher.fetch(url)
                except InvalidRequest as exc:
                    exc.param = f"messages[{index}].content"
                    raise

        try:
            # A TaskGroup: the first refusal cancels the fetches still running.
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(i, url)) for i, url in pending]
        except ExceptionGroup as failed:
            raise failed.exceptions[0] from None
        fetched = iter(task.result() for task in tasks)
        return replace(request, messages=tuple(_filled(m, fetched) for m in request.messages))


def _filled(message: Message, fetched: Iterator[ImagePart]) -> Message:
    if not any(image.url for image in message.images):
        return message
    return replace(message, images=tuple(next(fetched) if i.url else i for i in message.images))


def build_image_service(settings: Settings) -> ImageService:
    return ImageService(settings)
