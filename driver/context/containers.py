"""Key containers: CardCreateContainer(Ex), CardDeleteContainer, CardGetContainerInfo."""

from __future__ import annotations

from wire.minidriver import containers as cm
from wire.minidriver import keyspecs as ks
from wire.minidriver import pins as p
from wire.minidriver import versions as v

from .. import blobs
from ..api import api
from ..cache import Category
from ..errors import (
    SCARD_E_INVALID_PARAMETER,
    SCARD_E_NO_KEY_CONTAINER,
    SCARD_E_UNSUPPORTED_FEATURE,
)
from ..structures import CARD_KEY_SIZES, CONTAINER_INFO
from . import checks
from .base import ADMIN, USER
from .capabilities import CapabilitiesMixin


class ContainersMixin(CapabilitiesMixin):
    @api("CardDeleteContainer")
    def delete_container(self, container_index: int, reserved: int = 0) -> None:
        if reserved != 0:
            raise SCARD_E_INVALID_PARAMETER("dwReserved must be 0")
        index = checks.container_index(container_index)
        if self.card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        self._require_auth(USER | ADMIN, "deleting a container")
        if index >= self.card.max_containers:
            return  # an index the card cannot have is already "deleted"
        self._bump(containers=True)
        self.card.delete_container(index)
        self.cache.drop(Category.CONTAINERS, index)

    @api("CardCreateContainer")
    def create_container(
        self, container_index: int, flags: int, key_spec: int, key_size: int, key_data: bytes | None
    ) -> None:
        self._create(container_index, flags, key_spec, key_size, key_data, p.ROLE_USER)

    @api("CardCreateContainerEx", since=7)
    def create_container_ex(
        self,
        container_index: int,
        flags: int,
        key_spec: int,
        key_size: int,
        key_data: bytes | None,
        pin_id: int,
    ) -> None:
        self._create(container_index, flags, key_spec, key_size, key_data, pin_id)

    def _create(
        self,
        container_index: int,
        flags: int,
        key_spec: int,
        key_size: int,
        key_data: bytes | None,
        pin_id: int,
    ) -> None:
        if flags not in (cm.CARD_CREATE_CONTAINER_KEY_GEN, cm.CARD_CREATE_CONTAINER_KEY_IMPORT):
            raise SCARD_E_INVALID_PARAMETER("flags must be KEY_GEN or KEY_IMPORT")
        if key_spec not in ks.KEY_SPECS:
            raise SCARD_E_INVALID_PARAMETER(f"undefined key spec {key_spec!r}")
        card = self.card
        if card.read_only:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card is read-only")
        generate = flags == cm.CARD_CREATE_CONTAINER_KEY_GEN
        if generate and not card.key_gen:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot generate keys")
        if not generate and not card.key_import:
            raise SCARD_E_UNSUPPORTED_FEATURE("the card cannot import keys")
        sizes = self._key_sizes(key_spec)
        index = checks.container_index(container_index)
        if index >= card.max_containers:
            raise SCARD_E_NO_KEY_CONTAINER(f"the card has {card.max_containers} containers")
        private = None
        if generate:
            if key_spec in ks.RSA_KEY_SPECS:
                bits = key_size
            else:
                bits = key_size or ks.EC_KEY_BITS[key_spec]
            _check_size(bits, sizes)
        else:
            if key_data is None:
                raise SCARD_E_INVALID_PARAMETER("KEY_IMPORT needs a key blob")
            private = blobs.import_private_key(key_data, key_spec)
            bits = blobs.key_bits(private)
            # dwKeySize: bits (the spec) or the blob's length in bytes (OpenSC), or 0.
            if key_size not in (0, bits, len(key_data)):
                raise SCARD_E_INVALID_PARAMETER(
                    f"dwKeySize {key_size} does not match the {bits}-bit key"
                )
            _check_size(bits, sizes)
        if pin_id == p.ROLE_ADMIN or pin_id == p.ROLE_EVERYONE:
            raise SCARD_E_INVALID_PARAMETER("keys cannot be bound to the admin or everyone")
        self._pin(pin_id)
        self._require_auth(p.CREATE_PIN_SET(pin_id), "creating a key")
        self._bump(containers=True)
        self.cache.drop(Category.CONTAINERS, index)
        if private is None:
            card.generate_key(index, key_spec, bits, pin_id)
        else:
            card.import_key(index, key_spec, private, pin_id)

    @api("CardGetContainerInfo")
    def get_container_info(
        self, container_index: int, flags: int = 0, info: CONTAINER_INFO | None = None
    ) -> CONTAINER_INFO:
        checks.flags_zero(flags)
        version = checks.struct_version(
            info.version if info else v.CONTAINER_INFO_CURRENT_VERSION,
            v.CONTAINER_INFO_CURRENT_VERSION,
        )
        return self._container_info(checks.container_index(container_index), version)

    def _container_info(self, index: int, version: int = 1) -> CONTAINER_INFO:
        keys = self._container_keys(index)
        if not keys:
            raise SCARD_E_NO_KEY_CONTAINER(f"container {index} does not exist or is empty")
        out = CONTAINER_INFO(version)
        for key in keys:
            blob = blobs.container_public_blob(key.public_key, key.key_spec)
            if key.key_spec in ks.SIGNATURE_SLOT_KEY_SPECS:
                out.sig_public_key = blob
            else:
                out.key_ex_public_key = blob
        return out


def _check_size(bits: int, sizes: CARD_KEY_SIZES) -> None:
    fits = sizes.minimum_bitlen <= bits <= sizes.maximum_bitlen
    if fits and sizes.incremental_bitlen:
        fits = (bits - sizes.minimum_bitlen) % sizes.incremental_bitlen == 0
    if not fits:
        raise SCARD_E_INVALID_PARAMETER(
            f"{bits}-bit key: the card takes {sizes.minimum_bitlen}..{sizes.maximum_bitlen} "
            f"in steps of {sizes.incremental_bitlen}"
        )
