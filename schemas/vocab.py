"""The closed RDF vocabulary of kgpipe and the type mappings onto it.

``KGP`` is a closed namespace: a misspelt term (``KGP.Persn``) raises instead
of minting a silent new IRI. Its terms mirror ``ontology.ttl`` beside this
file; a test keeps the two in step.
"""

from __future__ import annotations

import importlib.resources
import unicodedata

from rdflib import URIRef
from rdflib.namespace import DefinedNamespace, Namespace

ONTOLOGY_IRI = "https://w3id.org/kgpipe/ontology"
NAMESPACE = ONTOLOGY_IRI + "#"
DEFAULT_BASE_IRI = "https://w3id.org/kgpipe/resource/"


class KGP(DefinedNamespace):
    """kgpipe ontology terms (closed: unknown names raise ``AttributeError``)."""

    _NS = Namespace(NAMESPACE)
    _fail = True

    # Entity classes
    Entity: URIRef
    Person: URIRef
    Location: URIRef
    Organization: URIRef
    Brand: URIRef
    Product: URIRef
    CreativeWork: URIRef
    Event: URIRef
    Position: URIRef
    # Evidence classes
    Document: URIRef
    Mention: URIRef
    Run: URIRef
    Cooccurrence: URIRef
    # Properties
    inDocument: URIRef
    refersTo: URIRef
    startOffset: URIRef
    endOffset: URIRef
    surfaceForm: URIRef
    nerLabel: URIRef
    nerScore: URIRef
    linkScore: URIRef
    nerModel: URIRef
    kbVersion: URIRef
    inRun: URIRef
    kbId: URIRef
    minted: URIRef
    documentText: URIRef
    source: URIRef
    coOccursWith: URIRef
    cooccurrenceCount: URIRef
    brand: URIRef
    category: URIRef
    extractor: URIRef
    documentCount: URIRef
    mentionCount: URIRef
    tripleCount: URIRef
    # Typed relations (DuIE 2.0 predicates + birthPlace; see RELATION_PREDICATES)
    relationOf: URIRef
    RelationStatement: URIRef
    confidence: URIRef
    relationModel: URIRef
    alumniOf: URIRef
    guest: URIRef
    voiceOf: URIRef
    themeSong: URIRef
    spokesperson: URIRef
    inAlbum: URIRef
    father: URIRef
    author: URIRef
    releaseDate: URIRef
    mother: URIRef
    majorCode: URIRef
    landArea: URIRef
    postalCode: URIRef
    boxOffice: URIRef
    registeredCapital: URIRef
    protagonist: URIRef
    wife: URIRef
    screenwriter: URIRef
    climate: URIRef
    singer: URIRef
    awardReceived: URIRef
    principal: URIRef
    founder: URIRef
    capital: URIRef
    husband: URIRef
    dynasty: URIRef
    playsRole: URIRef
    area: URIRef
    headquarters: URIRef
    ancestralHome: URIRef
    population: URIRef
    producer: URIRef
    studyLength: URIRef
    locatedInCity: URIRef
    chairperson: URIRef
    lyricist: URIRef
    basedOn: URIRef
    productionCompany: URIRef
    director: URIRef
    composer: URIRef
    starring: URIRef
    presenter: URIRef
    foundingDate: URIRef
    shortName: URIRef
    elevation: URIRef
    artName: URIRef
    nationality: URIRef
    officialLanguage: URIRef
    birthPlace: URIRef


# Standard vocabularies the triple builder uses beside KGP.
NIF = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")

# Prefixes for Turtle / JSON-LD output and SPARQL queries.
PREFIXES: dict[str, str] = {
    "kgp": NAMESPACE, "nif": str(NIF), "prov": str(PROV), "schema": str(SCHEMA),
    "skos": str(SKOS), "dcterms": str(DCTERMS), "rdf": str(RDF), "rdfs": str(RDFS),
    "xsd": str(XSD), "owl": str(OWL),
}


def terms() -> list[str]:
    """Returns the local names of all KGP terms, in declaration order."""
    return list(KGP.__annotations__)


def shapes_text() -> str:
    """Returns the Turtle source of the SHACL shapes that kgpipe output must satisfy."""
    return importlib.resources.files("kgpipe.schemas").joinpath("shapes.ttl").read_text("utf-8")


def ontology_text() -> str:
    """Returns the Turtle source of the ontology."""
    return importlib.resources.files("kgpipe.schemas").joinpath("ontology.ttl").read_text("utf-8")


# NER labels (MSRA, e-commerce, CLUENER, OntoNotes-style) -> ontology class.
_NER_LABEL_CLASSES: dict[str, URIRef] = {
    "PER": KGP.Person, "PERSON": KGP.Person, "NR": KGP.Person, "NAME": KGP.Person,
    "LOC": KGP.Location, "NS": KGP.Location, "GPE": KGP.Location, "ADDRESS": KGP.Location,
    "SCENE": KGP.Location,
    "ORG": KGP.Organization, "NT": KGP.Organization, "ORGANIZATION": KGP.Organization,
    "COMPANY": KGP.Organization, "GOVERNMENT": KGP.Organization,
    "BRAND": KGP.Brand, "HP": KGP.Brand,
    "PRODUCT": KGP.Product, "HC": KGP.Product,
    "BOOK": KGP.CreativeWork, "MOVIE": KGP.CreativeWork, "GAME": KGP.CreativeWork,
    "POSITION": KGP.Position, "EVENT": KGP.Event,
}

# KB type names (English, schema.org, Wikidata-ish and Chinese/CCKS) -> ontology class.
_KB_TYPE_CLASSES: dict[str, URIRef] = {
    **_NER_LABEL_CLASSES,
    "HUMAN": KGP.Person, "人物": KGP.Person, "人": KGP.Person,
    "PLACE": KGP.Location, "LOCATION": KGP.Location, "COUNTRY": KGP.Location,
    "CITY": KGP.Location, "REGION": KGP.Location, "PROVINCE": KGP.Location,
    "DISTRICT": KGP.Location, "地点": KGP.Location, "地区": KGP.Location, "国家": KGP.Location,
    "城市": KGP.Location, "行政区": KGP.Location,
    "CORPORATION": KGP.Organization, "BUSINESS": KGP.Organization,
    "ORGANISATION": KGP.Organization, "机构": KGP.Organization, "组织": KGP.Organization,
    "企业": KGP.Organization, "公司": KGP.Organization,
    "品牌": KGP.Brand, "产品": KGP.Product, "商品": KGP.Product, "FRUIT": KGP.Product,
    "CREATIVEWORK": KGP.CreativeWork, "WORK": KGP.CreativeWork, "VIDEO": KGP.CreativeWork,
    "作品": KGP.CreativeWork, "影视作品": KGP.CreativeWork, "图书": KGP.CreativeWork,
    "游戏": KGP.CreativeWork, "事件": KGP.Event, "职位": KGP.Position,
    # DuIE 2.0's argument types (the relation model's schema), where a class of ours fits.
    "历史人物": KGP.Person, "娱乐人物": KGP.Person, "图书作品": KGP.CreativeWork,
    "文学作品": KGP.CreativeWork, "歌曲": KGP.CreativeWork, "音乐专辑": KGP.CreativeWork,
    "电视综艺": KGP.CreativeWork, "学校": KGP.Organization, "景点": KGP.Location,
}


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().upper().replace(" ", "")


def class_for_label(label: str) -> URIRef:
    """Returns the ontology class for an NER label; ``KGP.Entity`` if unknown."""
    return _NER_LABEL_CLASSES.get(_key(label), KGP.Entity)


def class_for_kb_type(kb_type: str) -> URIRef:
    """Returns the ontology class for a KB type name; ``KGP.Entity`` if unknown.

    Accepts bare names (``"Organization"``, ``"城市"``) and IRIs
    (``"https://schema.org/Organization"``), whose last segment is used.
    """
    name = kb_type.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return _KB_TYPE_CLASSES.get(_key(name), KGP.Entity)

# Relation-model predicate (DuIE 2.0 Chinese names) -> (KGP local name, whether the object is an
# entity). The other predicates (dates, numbers, names) have a literal object.
RELATION_PREDICATES: dict[str, tuple[str, bool]] = {
    "毕业院校": ("alumniOf", True),
    "嘉宾": ("guest", True),
    "配音": ("voiceOf", True),
    "主题曲": ("themeSong", True),
    "代言人": ("spokesperson", True),
    "所属专辑": ("inAlbum", True),
    "父亲": ("father", True),
    "作者": ("author", True),
    "上映时间": ("releaseDate", False),
    "母亲": ("mother", True),
    "专业代码": ("majorCode", False),
    "占地面积": ("landArea", False),
    "邮政编码": ("postalCode", False),
    "票房": ("boxOffice", False),
    "注册资本": ("registeredCapital", False),
    "主角": ("protagonist", True),
    "妻子": ("wife", True),
    "编剧": ("screenwriter", True),
    "气候": ("climate", True),
    "歌手": ("singer", True),
    "获奖": ("awardReceived", True),
    "校长": ("principal", True),
    "创始人": ("founder", True),
    "首都": ("capital", True),
    "丈夫": ("husband", True),
    "朝代": ("dynasty", False),
    "饰演": ("playsRole", True),
    "面积": ("area", False),
    "总部地点": ("headquarters", True),
    "祖籍": ("ancestralHome", True),
    "人口数量": ("population", False),
    "制片人": ("producer", True),
    "修业年限": ("studyLength", False),
    "所在城市": ("locatedInCity", True),
    "董事长": ("chairperson", True),
    "作词": ("lyricist", True),
    "改编自": ("basedOn", True),
    "出品公司": ("productionCompany", True),
    "导演": ("director", True),
    "作曲": ("composer", True),
    "主演": ("starring", True),
    "主持人": ("presenter", True),
    "成立日期": ("foundingDate", False),
    "简称": ("shortName", False),
    "海拔": ("elevation", False),
    "号": ("artName", False),
    "国籍": ("nationality", True),
    "官方语言": ("officialLanguage", True),
    "出生地": ("birthPlace", True)
}


def property_for_predicate(predicate: str) -> tuple[URIRef, bool] | None:
    """Returns the KGP property of a relation-model predicate and whether its object is an
    entity; ``None`` for a predicate the ontology does not know."""
    entry = RELATION_PREDICATES.get(predicate)
    return None if entry is None else (KGP[entry[0]], entry[1])
