from __future__ import annotations

import ast

from .. import django_api as api
from ..diagnostics import Applicability
from ..fixers.sync_to_async import wrap_call
from ..semantic import FieldFile, Storage
from .base import Invalid, Rule, Valid
from ._fix_choice import called_method


class BlockingFileStorage(Rule):
    """File storage I/O on the event loop: `default_storage.save()`, `book.cover.read()`, …

    ## What it does
    Flags, inside an `async def`, the methods of Django's file storage that touch the files
    (`save`, `open`, `delete`, `exists`, `size`, `listdir`, `get_*_time`) on
    `default_storage`, `storages[alias]` or a `FileSystemStorage` (not `InMemoryStorage`, which
    does no I/O), and
    those of a model's file (`FileField`/`ImageField` on an instance: `open`, `read`,
    `chunks`, `save`, `delete`, and the `size` property).

    ## Why is this bad?
    Django's storage API has no async form in any version: each call is blocking disk or
    network I/O (S3 and other remote backends make an HTTP request), which stalls every
    request served by the event loop while it waits.

    ## Fix
    `await sync_to_async(default_storage.save)(name, content)`: the call runs in Django's
    worker thread.  A `size` read gets no fix.

    ## Fix safety
    Safe: the same call runs, in a thread.
    """

    code = "ASL118"
    name = "blocking-file-storage"
    node_types = (ast.Call, ast.Attribute)

    INVALID = [
        Invalid(
            "from django.core.files.storage import default_storage\n\nasync def upload(name, content):\n    return default_storage.save(name, content)\n",
            fixed="from django.core.files.storage import default_storage\nfrom asgiref.sync import sync_to_async\n\nasync def upload(name, content):\n    return await sync_to_async(default_storage.save)(name, content)\n",
        ),
        Invalid(
            "from django.core.files.storage import storages\n\nasync def exists(name):\n    return storages['media'].exists(name)\n",
            fixed="from django.core.files.storage import storages\nfrom asgiref.sync import sync_to_async\n\nasync def exists(name):\n    return await sync_to_async(storages['media'].exists)(name)\n",
        ),
        Invalid(
            "from django.db import models\n\nclass Document(models.Model):\n    title = models.CharField(max_length=100)\n    upload = models.FileField(upload_to='documents/')\n\nasync def download(pk):\n    document = await Document.objects.aget(pk=pk)\n    return document.upload.read()\n",
            fixed="from django.db import models\nfrom asgiref.sync import sync_to_async\n\nclass Document(models.Model):\n    title = models.CharField(max_length=100)\n    upload = models.FileField(upload_to='documents/')\n\nasync def download(pk):\n    document = await Document.objects.aget(pk=pk)\n    return await sync_to_async(document.upload.read)()\n",
        ),
        Invalid(
            "from django.db import models\n\nclass Document(models.Model):\n    title = models.CharField(max_length=100)\n    upload = models.FileField(upload_to='documents/')\n\nasync def size(pk):\n    document = await Document.objects.aget(pk=pk)\n    return document.upload.size\n",
        ),
    ]
    VALID = [
        Valid("from asgiref.sync import sync_to_async\nfrom django.core.files.storage import default_storage\n\nasync def upload(name, content):\n    return await sync_to_async(default_storage.save)(name, content)\n"),
        Valid("from django.core.files.storage import default_storage\n\nasync def link(name):\n    return default_storage.url(name)\n"),
        Valid("from django.db import models\n\nclass Document(models.Model):\n    title = models.CharField(max_length=100)\n    upload = models.FileField(upload_to='documents/')\n\nasync def name(pk):\n    document = await Document.objects.aget(pk=pk)\n    return document.upload.name, document.title\n"),
        Valid("from django.core.files.storage import default_storage\n\ndef upload(name, content):\n    return default_storage.save(name, content)\n"),
    ]

    def check(self, node, ctx):
        if isinstance(node, ast.Call):
            receiver, method = called_method(node) or (None, "")
            value = ctx.infer(receiver) if receiver is not None else None
            if isinstance(value, Storage) and method in api.STORAGE_METHODS:
                what = "storage"
            elif isinstance(value, FieldFile) and method in api.FIELD_FILE_METHODS:
                what = "file field"
            else:
                return
            callee = ctx.text(node.func)
            yield ctx.report(
                self.code,
                node,
                f"`{callee}()` is blocking {what} I/O on the event loop; call it with `await sync_to_async({callee})(…)`",
                wrap_call(ctx, node, Applicability.SAFE),
            )
        elif (
            isinstance(node.ctx, ast.Load)
            and node.attr in api.FIELD_FILE_PROPERTIES
            and isinstance(ctx.infer(node.value), FieldFile)
        ):
            yield ctx.report(
                self.code,
                node,
                f"`{ctx.text(node)}` asks the storage for the file's size (blocking I/O) on the event loop; "
                "read it in `sync_to_async`",
            )
