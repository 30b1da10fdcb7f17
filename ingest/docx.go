package ingest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits on what ReadDocx accepts. A real informe is about 40 KiB zipped
// and 1 MiB inflated; the limits leave room for pasted images while keeping
// a zip bomb from using more than a bounded amount of CPU and memory.
const (
	// MaxFileSize is the largest file accepted (20 MiB).
	MaxFileSize = 20 << 20
	// MaxEntries is the most zip entries accepted.
	MaxEntries = 1000
	// MaxPartSize is the most bytes a single XML part may inflate to.
	MaxPartSize = 32 << 20
	// MaxInflated is the most bytes all entries together may declare, and
	// all XML parts read together may inflate to.
	MaxInflated = 128 << 20
	// maxDepth bounds element nesting in the XML walker.
	maxDepth = 256
	// maxParagraphs and maxCells bound the document model (an informe has
	// about 300 paragraphs and 300 cells).
	maxParagraphs = 200_000
	maxCells      = 500_000
)

const documentPart = "word/document.xml"

// Document is what ReadDocx reads from a .docx: the body's blocks in
// document order. Headers, footers, footnotes and comments are not read.
type Document struct {
	Blocks []Block
}

// Block is one body-level element: exactly one of Paragraph and Table is
// set. Paragraphs of a text box follow the paragraph that anchors it.
type Block struct {
	Paragraph *Paragraph
	Table     *Table
}

// Paragraph is one body paragraph.
type Paragraph struct {
	// Text is the shown text: runs joined, tabs as "\t", breaks as "\n",
	// non-breaking hyphens as "-". It is not trimmed.
	Text string
	// Style is the paragraph style's id (w:pStyle), StyleName its name from
	// styles.xml ("heading 1"), both empty for the default style.
	Style, StyleName string
	// Level is the heading level, 1–9, from the style ("heading N") or the
	// outline level; 0 means body text.
	Level int
}

// Table is one table, its merged cells expanded the way Word shows them:
// every row has a cell for every grid column it covers, and a cell merged
// across columns (w:gridSpan) or down rows (w:vMerge) repeats its text in
// every position it covers.
type Table struct {
	Rows []Row
}

// Row is one table row.
type Row struct {
	Cells []Cell
	// Header is set for rows marked to repeat as header rows (w:tblHeader).
	Header bool
}

// Cell is one grid position of a row.
type Cell struct {
	// Text is the cell's paragraphs joined with "\n", trimmed.
	Text string
	// HMerged: this position is covered by the cell to its left (gridSpan).
	HMerged bool
	// VMerged: this position continues the cell above (vMerge).
	VMerged bool
}

// ReadDocx reads a .docx of the given size. It refuses, with an *Error,
// files over MaxFileSize, anything that is not a zip (and says so for an old
// .doc or a password-protected .docx), archives over the entry and size
// limits, a missing word/document.xml and XML declaring a DTD or entities.
func ReadDocx(r io.ReaderAt, size int64) (*Document, error) {
	if size > MaxFileSize {
		return nil, newError(ErrTooLarge, "El archivo es demasiado grande",
			fmt.Sprintf("El archivo pesa %.1f MiB; el máximo aceptado es %d MiB.", float64(size)/(1<<20), MaxFileSize>>20), nil)
	}
	if size < 0 {
		size = 0
	}
	if err := checkOLE(r, size); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, newError(ErrNotDocx, "El archivo no es un documento Word (.docx)",
			"El archivo no es un .docx válido (no es un archivo ZIP). Guárdelo en Word como «Documento de Word (.docx)» y vuelva a subirlo.", err)
	}
	if err != nil {
		return nil, errMalformed("(nombres de archivo del ZIP)", err)
	}
	p := &pkg{files: zr.File}
	if err := p.checkEntries(); err != nil {
		return nil, err
	}
	doc := p.find(documentPart)
	if doc == nil {
		// Some tools name the main part otherwise (word/document2.xml);
		// the package relationships say which it is.
		doc = p.mainPart()
	}
	if doc == nil {
		return nil, newError(ErrNoDocument, "El archivo no contiene un documento de Word",
			"El archivo es un ZIP, pero le falta word/document.xml: no es un .docx. Guárdelo en Word como .docx y vuelva a subirlo.", nil)
	}
	// Every other XML part is scanned for DTDs so that nothing downstream
	// (or a later reader of the same upload) trips over one; the two parts
	// we parse are checked by the decoder itself.
	styles := p.find("word/styles.xml")
	for _, f := range p.files {
		if f == doc || f == styles || !isXMLPart(f.Name) {
			continue
		}
		if err := p.scanPart(f); err != nil {
			return nil, err
		}
	}
	var st *styleSheet
	if styles != nil {
		if st, err = p.readStyles(styles); err != nil {
			return nil, err
		}
	}
	rc, err := p.open(doc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	blocks, err := readBody(rc, st)
	if err != nil {
		return nil, p.classify(documentPart, err)
	}
	return &Document{Blocks: blocks}, nil
}

var oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

// checkOLE recognises OLE compound files: an old .doc, or a .docx saved with
// a password, which Word wraps in a compound file holding the streams
// EncryptionInfo and EncryptedPackage (names stored in UTF-16LE).
func checkOLE(r io.ReaderAt, size int64) error {
	head := make([]byte, len(oleMagic))
	if n, _ := r.ReadAt(head, 0); n < len(head) || !bytes.Equal(head, oleMagic) {
		return nil
	}
	if oleHasStream(io.NewSectionReader(r, 0, size), "EncryptedPackage", "EncryptionInfo") {
		return newError(ErrEncrypted, "El documento está protegido con contraseña",
			"El informe está cifrado con contraseña y no se puede leer. Quite la contraseña en Word (Archivo › Información › Proteger documento), guárdelo y vuelva a subirlo.", nil)
	}
	return newError(ErrLegacyDoc, "El archivo es un documento de Word antiguo (.doc)",
		"Solo se aceptan documentos .docx. Abra el archivo en Word, guárdelo como «Documento de Word (.docx)» y vuelva a subirlo.", nil)
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// oleHasStream reports whether any of the names appears, in UTF-16LE, in
// the (size-capped) compound file.
func oleHasStream(r io.Reader, names ...string) bool {
	pats := make([][]byte, len(names))
	for i, n := range names {
		pats[i] = utf16le(n)
	}
	found, _ := containsAny(r, 64, pats)
	return found
}

// containsAny reports whether any of pats occurs in r, reading it in
// windows that overlap by overlap bytes, so a pattern shorter than overlap
// is never split. It stops at the first match; the error is a read error
// met before any match.
func containsAny(r io.Reader, overlap int, pats [][]byte) (bool, error) {
	buf := make([]byte, 32<<10+overlap)
	keep := 0
	for {
		n, err := io.ReadFull(r, buf[keep:])
		if n > 0 {
			for _, p := range pats {
				if bytes.Contains(buf[:keep+n], p) {
					return true, nil
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return false, nil
			}
			return false, err
		}
		end := keep + n
		keep = min(overlap, end)
		copy(buf, buf[end-keep:end])
	}
}

func isXMLPart(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".xml" || ext == ".rels" || ext == ".vml"
}

// pkg is an opened archive with its inflation budget.
type pkg struct {
	files    []*zip.File
	inflated int64 // bytes inflated so far, all parts together
}

func (p *pkg) checkEntries() error {
	if len(p.files) > MaxEntries {
		return errZipBomb(fmt.Sprintf("El archivo contiene %d partes; el máximo aceptado es %d.", len(p.files), MaxEntries))
	}
	var total uint64
	for _, f := range p.files {
		total += f.UncompressedSize64
		if total > MaxInflated || (isXMLPart(f.Name) && f.UncompressedSize64 > MaxPartSize) {
			return errZipBomb(fmt.Sprintf("El archivo declara más de %d MiB descomprimidos; el máximo aceptado es %d MiB.", MaxInflated>>20, MaxInflated>>20))
		}
	}
	return nil
}

// find returns the entry with the given name; OPC part names compare
// case-insensitively.
func (p *pkg) find(name string) *zip.File {
	for _, f := range p.files {
		if f.Name == name {
			return f
		}
	}
	for _, f := range p.files {
		if strings.EqualFold(strings.TrimPrefix(f.Name, "/"), name) {
			return f
		}
	}
	return nil
}

// mainPart follows _rels/.rels to the officeDocument part, or returns nil.
func (p *pkg) mainPart() *zip.File {
	rels := p.find("_rels/.rels")
	if rels == nil {
		return nil
	}
	rc, err := p.open(rels)
	if err != nil {
		return nil
	}
	defer rc.Close()
	d := newDecoder(rc)
	for {
		t, err := d.RawToken()
		if err != nil {
			return nil
		}
		if _, ok := t.(xml.Directive); ok {
			return nil
		}
		se, ok := t.(xml.StartElement)
		if !ok || se.Name.Local != "Relationship" || !strings.HasSuffix(attr(se, "Type"), "/officeDocument") {
			continue
		}
		target := strings.TrimPrefix(path.Clean("/"+attr(se, "Target")), "/")
		// Only a Word main part: an .xlsx or .pptx names its own.
		if !strings.HasPrefix(strings.ToLower(target), "word/") {
			return nil
		}
		if f := p.find(target); f != nil && isXMLPart(f.Name) {
			return f
		}
	}
}

// open opens an entry for reading through the inflation limits: headers
// can lie, so the reader itself stops at MaxPartSize and at what is left of
// MaxInflated.
func (p *pkg) open(f *zip.File) (io.ReadCloser, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, errMalformed(f.Name, err)
	}
	return &limitedPart{rc: rc, lr: io.LimitReader(rc, MaxPartSize+1), p: p, name: f.Name}, nil
}

var (
	errInflated = errors.New("part inflates past the limits")
	errTooBig   = errors.New("too many paragraphs or cells")
)

type limitedPart struct {
	rc   io.ReadCloser
	lr   io.Reader
	p    *pkg
	name string
	n    int64
}

func (l *limitedPart) Read(b []byte) (int, error) {
	n, err := l.lr.Read(b)
	l.n += int64(n)
	l.p.inflated += int64(n)
	if l.n > MaxPartSize || l.p.inflated > MaxInflated {
		return n, errInflated
	}
	return n, err
}

func (l *limitedPart) Close() error { return l.rc.Close() }

// classify turns an error met while reading a part into an *Error.
func (p *pkg) classify(part string, err error) error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, errInflated):
		return errZipBomb(fmt.Sprintf("La parte %s se descomprime a más de %d MiB; el máximo aceptado es %d MiB.", part, MaxPartSize>>20, MaxPartSize>>20))
	case errors.Is(err, errTooBig):
		return errZipBomb(fmt.Sprintf("El documento tiene más de %d párrafos o %d celdas de tabla; un informe tiene unos cientos.", maxParagraphs, maxCells))
	case errors.Is(err, errDTD):
		return unsafeXML(part)
	default:
		return errMalformed(part, err)
	}
}

var errDTD = errors.New("DTD or entity declaration")

func unsafeXML(part string) *Error {
	return newError(ErrUnsafeXML, "El documento contiene XML no permitido",
		fmt.Sprintf("La parte %s declara un DTD o entidades XML (<!DOCTYPE>/<!ENTITY>); por seguridad no se procesa. Guarde el informe de nuevo en Word y vuelva a subirlo.", part), nil)
}

var dtdMarkers = [][]byte{
	[]byte("<!DOCTYPE"), []byte("<!ENTITY"),
	utf16le("<!DOCTYPE"), utf16le("<!ENTITY"),
}

// scanPart reads an XML part we do not parse, through the limits, and
// rejects a DTD or entity declaration in it.
func (p *pkg) scanPart(f *zip.File) error {
	rc, err := p.open(f)
	if err != nil {
		return err
	}
	defer rc.Close()
	found, err := containsAny(rc, 32, dtdMarkers)
	if found {
		return unsafeXML(f.Name)
	}
	if err != nil {
		return p.classify(f.Name, err)
	}
	return nil
}
