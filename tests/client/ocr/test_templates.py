"""The shipped OCR templates: valid, ≥ 500 issuers, labelled synthetic, consistent with the code table."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from client.core.ocr.families import all_templates, move_out_certificate
from client.core.ocr.templates import TemplateStore
from shared.codes.municipalities import find_municipality
from shared.schemas.ocr_template import DocumentType, OcrTemplate


def test_at_least_500_municipalities(store: TemplateStore) -> None:
    """form_templates/ocr holds 転出証明書 templates for at least 500 distinct municipalities."""
    issuers = {t.issuer for t in store.templates.values() if t.doc_type is DocumentType.move_out_certificate}
    assert len(issuers) >= 500
    assert "082104" in issuers  # 下妻市, the customer of spec 000


def test_derived_templates_say_synthetic_and_name_their_issuer(store: TemplateStore) -> None:
    """Every derived template is marked synthetic and its issuer anchor is its own municipality's name."""
    for template in store.templates.values():
        assert template.synthetic
        if template.doc_type is DocumentType.move_out_certificate:
            municipality = find_municipality(template.issuer)
            assert municipality is not None
            anchor = next(a for a in template.anchors if a.name == "issuer")
            assert anchor.text == f"{municipality.full_name}長"


def test_three_layout_families_in_use(store: TemplateStore) -> None:
    """The derived 転出証明書 come from three vendor-style families, each used by many issuers."""
    families = Counter(
        t.layout.family
        for t in store.templates.values()
        if t.layout and t.doc_type is DocumentType.move_out_certificate
    )
    assert set(families) == {"grid", "split", "stacked"}
    assert min(families.values()) > 100


def test_files_match_the_generator(store: TemplateStore) -> None:
    """The committed files are exactly what client.core.ocr.families generates (no hand drift)."""
    generated = {f"{t.doc_type.value}/{t.issuer}/{t.version}": t for t in all_templates()}
    assert set(generated) == set(store.templates)
    sample = "move_out_certificate/082104/2021-01"
    assert generated[sample] == store.templates[sample]


def test_schema_rejects_an_anchor_outside_the_reference() -> None:
    """An anchor box that leaves the reference image is a validation error with a Japanese message."""
    municipality = find_municipality("082104")
    assert municipality is not None
    data = move_out_certificate(municipality).model_dump(mode="json")
    data["anchors"][0]["box"]["x"] = 2400
    with pytest.raises(ValidationError) as caught:
        OcrTemplate.model_validate(data)
    assert "はみ出して" in str(caught.value)


def test_schema_rejects_a_bad_security_pattern_colour() -> None:
    """The 地紋 colour must be #rrggbb."""
    municipality = find_municipality("082104")
    assert municipality is not None
    data = move_out_certificate(municipality).model_dump(mode="json")
    data["layout"]["security_pattern"] = "green"
    with pytest.raises(ValidationError):
        OcrTemplate.model_validate(data)


NEW_TYPES = [
    DocumentType.move_out_certificate_equivalent,
    DocumentType.move_out_certificate_info,
    DocumentType.koseki_certificate,
    DocumentType.fuhyo_copy,
    DocumentType.special_permanent_resident_certificate,
    DocumentType.drivers_license,
]


@pytest.mark.parametrize("kind", NEW_TYPES)
def test_every_document_type_has_schema_valid_synthetic_templates(
    store: TemplateStore, kind: DocumentType
) -> None:
    """Each new type has templates; every file validates against the schema, says synthetic, maps
    only to 異動届 paths (the schema checks them) and names a field for each of its zones."""
    members = [t for t in store.templates.values() if t.doc_type is kind]
    assert members
    for template in members:
        again = OcrTemplate.model_validate(template.model_dump(mode="json"))
        assert again == template and template.synthetic and "合成" in template.label
        assert set(template.mapping) <= {z.field for z in template.zones}
        assert template.mapping  # something reaches the 異動届
        if template.issuer.isdigit():  # municipal documents print the issuing 市区町村長
            municipality = find_municipality(template.issuer)
            assert municipality is not None
            assert (
                next(a for a in template.anchors if a.name == "issuer").text == f"{municipality.full_name}長"
            )


def test_municipal_documents_cover_many_issuers(store: TemplateStore) -> None:
    """準ずる証明書, 戸籍全部事項証明書 and 附票の写し: over 100 municipalities each, 下妻市 among them."""
    for kind in (
        DocumentType.move_out_certificate_equivalent,
        DocumentType.koseki_certificate,
        DocumentType.fuhyo_copy,
    ):
        issuers = {t.issuer for t in store.templates.values() if t.doc_type is kind}
        assert len(issuers) > 100 and "082104" in issuers


def test_schema_rejects_a_mapping_to_a_path_outside_the_movement_notice() -> None:
    """A template of a new type mapping a field to a path the 異動届 lacks is refused."""
    from client.core.ocr.families import drivers_license

    data = drivers_license().model_dump(mode="json")
    data["mapping"]["license_number"] = "persons[0].driving_licence"
    with pytest.raises(ValidationError):
        OcrTemplate.model_validate(data)
