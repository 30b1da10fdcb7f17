package ingest_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

// ole builds the start of an OLE compound file: the magic, padding, and
// directory entry names in UTF-16LE, which is all the reader looks at.
func ole(streams ...string) []byte {
	b := []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	b = append(b, make([]byte, 504)...)
	for _, s := range streams {
		for _, r := range s {
			b = binary.LittleEndian.AppendUint16(b, uint16(r))
		}
		b = append(b, make([]byte, 128-2*len(s))...)
	}
	return append(b, make([]byte, 1024)...)
}

// wantError checks err is an *ingest.Error of the kind, with a Spanish
// title and detail for the operator.
func wantError(t *testing.T, err error, kind error, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	var e *ingest.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *ingest.Error", err, err)
	}
	if !errors.Is(err, kind) {
		t.Errorf("got kind %v, want %v (%v)", e.Kind, kind, err)
	}
	if e.Title == "" || e.Detail == "" {
		t.Errorf("empty title or detail: %+v", e)
	}
	if detail != "" && !strings.Contains(e.Detail, detail) {
		t.Errorf("detail %q does not say %q", e.Detail, detail)
	}
}

func parse(data []byte) error {
	_, err := ingest.Parse(data, "Informe Situación Regional PM 11 06 25.docx")
	return err
}

func TestBadNotZip(t *testing.T) {
	wantError(t, parse([]byte("Estimados, adjunto el informe.")), ingest.ErrNotDocx, "ZIP")
	wantError(t, parse(nil), ingest.ErrNotDocx, "")
	wantError(t, parse([]byte("%PDF-1.7\n")), ingest.ErrNotDocx, "")
}

func TestBadZipWithoutDocument(t *testing.T) {
	data := zipOf(t, part{"[Content_Types].xml", contentTypes}, part{"xl/workbook.xml", "<workbook/>"})
	wantError(t, parse(data), ingest.ErrNoDocument, "word/document.xml")
	// An .xlsx: its package relationships name a main part, not Word's.
	xlsx := zipOf(t, part{"[Content_Types].xml", contentTypes}, part{"xl/workbook.xml", "<workbook/>"},
		part{"_rels/.rels", strings.Replace(rootRels, "word/document.xml", "xl/workbook.xml", 1)})
	wantError(t, parse(xlsx), ingest.ErrNoDocument, "")
}

func TestBadLegacyDoc(t *testing.T) {
	wantError(t, parse(ole("Root Entry", "WordDocument", "1Table")), ingest.ErrLegacyDoc, ".docx")
}

func TestBadEncryptedDocx(t *testing.T) {
	wantError(t, parse(ole("Root Entry", "EncryptionInfo", "EncryptedPackage")), ingest.ErrEncrypted, "contraseña")
	// Either stream name suffices.
	wantError(t, parse(ole("Root Entry", "EncryptedPackage")), ingest.ErrEncrypted, "")
}

func TestBadDTD(t *testing.T) {
	body := fullInforme().body()
	doctype := `<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		strings.TrimPrefix(docOpen, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`) + p("", "&xxe;") + body + docClose
	cases := map[string][]byte{
		"document.xml": zipOf(t, part{"[Content_Types].xml", contentTypes}, part{"word/document.xml", doctype}),
		"styles.xml": docx(t, body, part{"word/styles.xml", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>` +
			`<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>`}),
		"rels":        docx(t, body, part{"word/_rels/document.xml.rels", `<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://example.com/r.dtd"><Relationships/>`}),
		"bare entity": docx(t, body, part{"customXml/item1.xml", `<?xml version="1.0"?><!ENTITY lol "lol"><x/>`}),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) { wantError(t, parse(data), ingest.ErrUnsafeXML, "DTD") })
	}
}

func TestBadTooManyEntries(t *testing.T) {
	parts := []part{{"word/document.xml", docOpen + fullInforme().body() + docClose}}
	for i := 0; i < ingest.MaxEntries; i++ {
		parts = append(parts, part{"word/media/x" + strings.Repeat("y", i%7) + itoa(i) + ".bin", ""})
	}
	wantError(t, parse(zipOf(t, parts...)), ingest.ErrZipBomb, "")
}

// rawZip writes entries with the headers given, whatever their content:
// headers can lie.
func rawZip(tb testing.TB, name string, declared uint64, content []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE(content),
		CompressedSize64: uint64(len(content)), UncompressedSize64: declared})
	if err != nil {
		tb.Fatal(err)
	}
	w.Write(content)
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestBadDeclaredInflation(t *testing.T) {
	// A header declaring a terabyte is refused before anything is read.
	wantError(t, parse(rawZip(t, "word/document.xml", 1<<40, []byte("<x/>"))), ingest.ErrZipBomb, "MiB")
}

func TestBadInflationPastLimit(t *testing.T) {
	// A real bomb: 40 MiB of XML whitespace deflated to a few KiB, headers
	// honest. Refused by the declared sizes.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte(docOpen))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for i := 0; i < 40; i++ {
		w.Write(chunk)
	}
	w.Write([]byte(docClose))
	zw.Close()
	if buf.Len() > 1<<20 {
		t.Fatalf("bomb is %d bytes, want it small", buf.Len())
	}
	wantError(t, parse(buf.Bytes()), ingest.ErrZipBomb, "")
}

func TestBadLyingHeader(t *testing.T) {
	// The header says 10 bytes, the entry holds more: reading stops at the
	// declared size (archive/zip) and the file is refused as damaged; the
	// reader's own LimitReader cap is tested in limits_test.go.
	content := []byte(docOpen + strings.Repeat(p("", "relleno"), 1000) + docClose)
	err := parse(rawZip(t, "word/document.xml", 10, content))
	if !errors.Is(err, ingest.ErrMalformed) && !errors.Is(err, ingest.ErrZipBomb) {
		t.Fatalf("got %v, want ErrMalformed or ErrZipBomb", err)
	}
	wantError(t, err, err.(*ingest.Error).Kind, "")
}

// sizedReader claims a size without holding the bytes.
type sizedReader struct{}

func (sizedReader) ReadAt(p []byte, off int64) (int, error) { return len(p), nil }

func TestBadTooLarge(t *testing.T) {
	_, err := ingest.ReadDocx(sizedReader{}, ingest.MaxFileSize+1)
	wantError(t, err, ingest.ErrTooLarge, "20 MiB")
	wantError(t, parse(make([]byte, ingest.MaxFileSize+1)), ingest.ErrTooLarge, "")
	// Exactly the limit is not too large (it is merely not a zip).
	wantError(t, parse(make([]byte, ingest.MaxFileSize)), ingest.ErrNotDocx, "")
}

func TestBadMalformedXML(t *testing.T) {
	wantError(t, parse(zipOf(t, part{"word/document.xml", docOpen + "<w:p><w:r>"})), ingest.ErrMalformed, "word/document.xml")
	wantError(t, parse(zipOf(t, part{"word/document.xml", `<w:document xmlns:w="x"/>`})), ingest.ErrMalformed, "")
}

func TestBadNoAlertas(t *testing.T) {
	in := fullInforme()
	in.sections = in.sections[1:]
	wantError(t, parse(docx(t, in.body())), ingest.ErrNoAlertas, "no se encontró la tabla de alertas vigentes")
}

func TestBadNoFecha(t *testing.T) {
	body := strings.Join(fullInforme().sections, "")
	wantError(t, parse(docx(t, body)), ingest.ErrNoFecha, "fecha")
}

func TestBadDate(t *testing.T) {
	in := fullInforme()
	in.fecha = "31 de junio 2025"
	wantError(t, parse(docx(t, in.body())), ingest.ErrBadDate, "31 de junio 2025")
}

func TestBadNoEdition(t *testing.T) {
	in := fullInforme()
	in.hora = " h."
	_, err := ingest.Parse(docx(t, in.body()), "informe.docx")
	wantError(t, err, ingest.ErrNoEdition, "AM o PM")
}
