package ingest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

// checkNoPanic runs the whole pipeline on data: any failure must be an
// *ingest.Error, any success must marshal.
func checkNoPanic(t *testing.T, data []byte) {
	doc, err := ingest.ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		var e *ingest.Error
		if !errors.As(err, &e) || e.Title == "" || e.Detail == "" {
			t.Fatalf("ReadDocx error is not a complete *ingest.Error: %T %v", err, err)
		}
		return
	}
	inf, err := ingest.ParseInforme(doc, "Informe Situación Regional AM 11 07 25.docx")
	if err != nil {
		var e *ingest.Error
		if !errors.As(err, &e) {
			t.Fatalf("ParseInforme error is not an *ingest.Error: %T %v", err, err)
		}
		return
	}
	if _, err := json.Marshal(inf.Content); err != nil {
		t.Fatalf("content does not marshal: %v", err)
	}
}

// FuzzReadDocx feeds whole files: the samples, generated documents with
// every quirk, and bad inputs. The seed corpus runs under plain go test.
func FuzzReadDocx(f *testing.F) {
	docs, _ := filepath.Glob(filepath.Join(samplesDir, "*.docx"))
	for _, path := range docs {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, body := range seedBodies() {
		f.Add(docx(f, body))
	}
	f.Add(ole("Root Entry", "EncryptedPackage"))
	f.Add(ole("Root Entry", "WordDocument"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(checkNoPanic)
}

// FuzzDocumentXML feeds word/document.xml itself, zipped around the fuzzed
// bytes, so mutations reach the XML walker and the parser instead of
// breaking the zip's checksums.
func FuzzDocumentXML(f *testing.F) {
	for _, body := range seedBodies() {
		f.Add([]byte(docOpen + body + docClose))
	}
	f.Fuzz(func(t *testing.T, xml []byte) {
		checkNoPanic(t, zipOf(t, part{"word/document.xml", string(xml)}))
	})
}

func seedBodies() []string {
	vmerge := `<w:tc><w:tcPr><w:vMerge w:val="restart"/><w:gridSpan w:val="2"/></w:tcPr>` + p("", "Temprana") + `</w:tc>`
	cont := `<w:tc><w:tcPr><w:vMerge/><w:gridSpan w:val="2"/></w:tcPr><w:p/></w:tc>`
	return []string{
		fullInforme().body(),
		p("", "sin tablas"),
		tbl(row("Fecha", "Hora"), row("miércoles, 28 de mayo de 2025", "0:35 h.")) + secAlertas,
		tbl(row(vmerge, "x"), row(cont, "y"), row("a", "b", "c")),
		`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>DATE</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>11/06/2025</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`,
		`<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><w:txbxContent>` + p("", "caja") + `</w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent>` + p("", "caja") + `</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>`,
		`<w:sdt><w:sdtContent><w:p><w:ins><w:r><w:t>a</w:t><w:tab/><w:noBreakHyphen/></w:r></w:ins><w:del><w:r><w:delText>b</w:delText></w:r></w:del></w:p></w:sdtContent></w:sdt>`,
	}
}
