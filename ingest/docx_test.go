package ingest_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/senapred-valparaiso/vigia/ingest"
)

func read(tb testing.TB, body string, extra ...part) *ingest.Document {
	tb.Helper()
	data := docx(tb, body, extra...)
	doc, err := ingest.ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		tb.Fatalf("ReadDocx: %v", err)
	}
	return doc
}

// paragraphs returns the body paragraphs' texts.
func paragraphs(doc *ingest.Document) []string {
	var out []string
	for _, b := range doc.Blocks {
		if b.Paragraph != nil {
			out = append(out, b.Paragraph.Text)
		}
	}
	return out
}

// grid returns the first table's cell texts.
func grid(tb testing.TB, doc *ingest.Document) [][]string {
	tb.Helper()
	for _, b := range doc.Blocks {
		if b.Table != nil {
			var out [][]string
			for _, r := range b.Table.Rows {
				var cells []string
				for _, c := range r.Cells {
					cells = append(cells, c.Text)
				}
				out = append(out, cells)
			}
			return out
		}
	}
	tb.Fatal("no table")
	return nil
}

func wantParagraphs(t *testing.T, body string, want ...string) {
	t.Helper()
	if got := paragraphs(read(t, body)); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestReadTabsBreaksHyphens(t *testing.T) {
	wantParagraphs(t, `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>`+
		`<w:r><w:t>Ruta</w:t><w:tab/><w:t>F</w:t><w:noBreakHyphen/><w:t>760</w:t><w:br/><w:t>km 12</w:t><w:softHyphen/><w:cr/><w:t>fin</w:t></w:r></w:p>`,
		"Ruta\tF-760\nkm 12\nfin")
}

func TestReadTextSplitAcrossRuns(t *testing.T) {
	wantParagraphs(t, `<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Alter</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:t xml:space="preserve">ación </w:t></w:r><w:bookmarkStart w:id="0" w:name="x"/><w:r><w:t>Sanitaria</w:t></w:r><w:bookmarkEnd w:id="0"/></w:p>`,
		"Alteración Sanitaria")
}

func TestReadTrackedChanges(t *testing.T) {
	wantParagraphs(t, `<w:p><w:r><w:t xml:space="preserve">Nivel </w:t></w:r>`+
		`<w:del w:id="1" w:author="a"><w:r><w:delText>Amarilla</w:delText></w:r></w:del>`+
		`<w:ins w:id="2" w:author="a"><w:r><w:t>Roja</w:t></w:r></w:ins>`+
		`<w:moveFrom w:id="3" w:author="a"><w:r><w:t>movido</w:t></w:r></w:moveFrom></w:p>`,
		"Nivel Roja")
}

func TestReadFieldCodes(t *testing.T) {
	// A complex field: code between begin and separate, result after it.
	body := `<w:p><w:r><w:t xml:space="preserve">Fecha: </w:t></w:r>` +
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DATE \@ "dd/MM/yyyy" </w:instrText></w:r>` +
		`<w:r><w:t>CODIGO</w:t></w:r>` +
		`<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>11/06/2025</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` +
		`<w:r><w:t xml:space="preserve"> · </w:t></w:r>` +
		// A simple field shows its result runs.
		`<w:fldSimple w:instr=" PAGE "><w:r><w:t>3</w:t></w:r></w:fldSimple></w:p>` +
		// A field with no result shows nothing, and the text after it shows.
		`<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText>TOC</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t>después</w:t></w:r></w:p>`
	wantParagraphs(t, body, "Fecha: 11/06/2025 · 3", "después")
}

func TestReadContentControls(t *testing.T) {
	body := `<w:sdt><w:sdtPr><w:alias w:val="Fecha"/><w:placeholder><w:docPart w:val="X"/></w:placeholder></w:sdtPr><w:sdtContent>` +
		p("", "bloque") + `</w:sdtContent></w:sdt>` +
		`<w:p><w:r><w:t xml:space="preserve">Fecha: </w:t></w:r><w:sdt><w:sdtPr><w:date/></w:sdtPr><w:sdtContent><w:r><w:t>Miércoles 11 de junio 2025</w:t></w:r></w:sdtContent></w:sdt></w:p>`
	wantParagraphs(t, body, "bloque", "Fecha: Miércoles 11 de junio 2025")
}

func TestReadHyperlinksAndSmartTags(t *testing.T) {
	wantParagraphs(t, `<w:p><w:hyperlink r:id="rId9" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:r><w:t>senapred.cl</w:t></w:r></w:hyperlink>`+
		`<w:r><w:t xml:space="preserve"> en </w:t></w:r><w:smartTag w:uri="urn:x" w:element="place"><w:smartTag w:uri="urn:x" w:element="City"><w:r><w:t>Valparaíso</w:t></w:r></w:smartTag></w:smartTag></w:p>`,
		"senapred.cl en Valparaíso")
}

func TestReadTextBoxOnce(t *testing.T) {
	// Word writes a text box twice: DrawingML in mc:Choice, VML in
	// mc:Fallback. It must be read once.
	box := `<w:txbxContent><w:p><w:r><w:t>Texto del cuadro</w:t></w:r></w:p></w:txbxContent>`
	body := `<w:p><w:r><w:t>Ancla</w:t></w:r><w:r><mc:AlternateContent>` +
		`<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx>` + box + `</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>` +
		`<mc:Fallback><w:pict><v:shape><v:textbox>` + box + `</v:textbox></v:shape></w:pict></mc:Fallback>` +
		`</mc:AlternateContent></w:r></w:p>` +
		// A VML-only text box (old documents) is read too.
		`<w:p><w:r><w:pict><v:shape><v:textbox><w:txbxContent>` + p("", "Solo VML") + `</w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>`
	wantParagraphs(t, body, "Ancla", "Texto del cuadro", "", "Solo VML")
}

func TestReadGridSpan(t *testing.T) {
	span := `<w:tc><w:tcPr><w:gridSpan w:val="3"/></w:tcPr>` + p("", "1. Resumen de alertas vigentes") + `</w:tc>`
	doc := read(t, tbl(row(span), row("Nivel", "Evento", "Cobertura"), row("<w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr>"+p("", "Amarilla")+"</w:tc>", "Los Andes")))
	want := [][]string{
		{"1. Resumen de alertas vigentes", "1. Resumen de alertas vigentes", "1. Resumen de alertas vigentes"},
		{"Nivel", "Evento", "Cobertura"},
		{"Amarilla", "Amarilla", "Los Andes"},
	}
	if got := grid(t, doc); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	cells := doc.Blocks[0].Table.Rows[2].Cells
	if cells[0].HMerged || !cells[1].HMerged || cells[2].HMerged {
		t.Errorf("HMerged flags = %v %v %v, want false true false", cells[0].HMerged, cells[1].HMerged, cells[2].HMerged)
	}
}

func TestReadVMerge(t *testing.T) {
	restart := `<w:tc><w:tcPr><w:vMerge w:val="restart"/></w:tcPr>` + p("", "Temprana Preventiva") + `</w:tc>`
	cont := `<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>`
	doc := read(t, tbl(row("Nivel", "Evento"), row(restart, "Meteorológico"), row(cont, "Sanitaria"), row("Amarilla", "Sanitaria")))
	want := [][]string{{"Nivel", "Evento"}, {"Temprana Preventiva", "Meteorológico"}, {"Temprana Preventiva", "Sanitaria"}, {"Amarilla", "Sanitaria"}}
	if got := grid(t, doc); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if c := doc.Blocks[0].Table.Rows[2].Cells[0]; !c.VMerged {
		t.Errorf("continuation cell VMerged = false")
	}
}

func TestReadCellParagraphsAndDeletedRow(t *testing.T) {
	multi := `<w:tc>` + p("", " Primera línea") + p("", "segunda ") + `</w:tc>`
	deleted := `<w:tr><w:trPr><w:del w:id="9" w:author="a"/></w:trPr><w:tc>` + p("", "borrada") + `</w:tc><w:tc><w:p/></w:tc></w:tr>`
	body := `<w:tbl><w:tr><w:trPr><w:tblHeader/></w:trPr>` + `<w:tc>` + p("", "A") + `</w:tc><w:tc>` + p("", "B") + `</w:tc></w:tr>` +
		deleted + `<w:sdt><w:sdtContent><w:tr>` + multi + `<w:sdt><w:sdtContent><w:tc>` + p("", "en control") + `</w:tc></w:sdtContent></w:sdt></w:tr></w:sdtContent></w:sdt></w:tbl>`
	doc := read(t, body)
	want := [][]string{{"A", "B"}, {"Primera línea\nsegunda", "en control"}}
	if got := grid(t, doc); !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if !doc.Blocks[0].Table.Rows[0].Header {
		t.Error("tblHeader row not marked Header")
	}
}

func TestReadHeadingLevels(t *testing.T) {
	doc := read(t, p("Ttulo1", "1. Alertas")+p("Heading2", "5.1 Litoral")+p("MiTitulo", "derivado")+
		`<w:p><w:pPr><w:outlineLvl w:val="2"/></w:pPr><w:r><w:t>esquema</w:t></w:r></w:p>`+p("", "cuerpo"),
		part{"word/styles.xml", stylesXML})
	var got []int
	for _, b := range doc.Blocks {
		got = append(got, b.Paragraph.Level)
	}
	if want := []int{1, 2, 1, 3, 0}; !reflect.DeepEqual(got, want) {
		t.Errorf("levels %v, want %v", got, want)
	}
	if n := doc.Blocks[0].Paragraph.StyleName; n != "heading 1" {
		t.Errorf("StyleName %q, want heading 1", n)
	}
}

// TestReadMainPartFromRels: a main part not called word/document.xml
// (Word Online writes word/document2.xml) is found through _rels/.rels.
func TestReadMainPartFromRels(t *testing.T) {
	rels := strings.Replace(rootRels, "word/document.xml", "/word/document2.xml", 1)
	data := zipOf(t, part{"[Content_Types].xml", contentTypes}, part{"_rels/.rels", rels},
		part{"word/document2.xml", docOpen + p("", "hola") + docClose})
	doc, err := ingest.ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := paragraphs(doc); !reflect.DeepEqual(got, []string{"hola"}) {
		t.Errorf("got %q", got)
	}
}

// TestReadStrictOpenXML: Strict Open XML uses another namespace for the
// same elements.
func TestReadStrictOpenXML(t *testing.T) {
	body := strings.ReplaceAll(docOpen, "http://schemas.openxmlformats.org/wordprocessingml/2006/main", "http://purl.oclc.org/ooxml/wordprocessingml/main") +
		tbl(row("Nivel", "Evento")) + docClose
	data := zipOf(t, part{"word/document.xml", body})
	doc, err := ingest.ReadDocx(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := grid(t, doc); !reflect.DeepEqual(got, [][]string{{"Nivel", "Evento"}}) {
		t.Errorf("got %q", got)
	}
}
