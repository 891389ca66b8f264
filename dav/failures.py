"""Faults in WebDAV handling: logged once with a traceback, answered without details.

WsgiDAV's own error page would show the exception text to the client; this
middleware sits just inside it and turns any unexpected exception into a bare
500 (or 507 for a full disk) after logging it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterator
from typing import Any

from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    DAVError,
)
from wsgidav.mw.base_mw import BaseMiddleware

logger = logging.getLogger(__name__)

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class FaultBarrier(BaseMiddleware):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            yield from self.next_app(environ, start_response)
        except DAVError:
            raise
        except OSError as error:
            if error.errno in _DISK_FULL:
                raise DAVError(HTTP_INSUFFICIENT_STORAGE, "no space left") from None
            if error.errno == errno.ENAMETOOLONG:
                raise DAVError(HTTP_BAD_REQUEST, "path too long") from None
            if error.errno == errno.EACCES:
                logger.warning("permission denied on disk: %s", error)
                raise DAVError(HTTP_FORBIDDEN, "permission denied on disk") from None
            self._log(environ)
            raise DAVError(HTTP_INTERNAL_ERROR, "internal error") from None
        except Exception:
            self._log(environ)
            raise DAVError(HTTP_INTERNAL_ERROR, "internal error") from None

    @staticmethod
    def _log(environ: dict[str, Any]) -> None:
        logger.exception(
            "internal error in %s %r",
            environ.get("REQUEST_METHOD"),
            environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
        )
