package ingest

import (
	"errors"
	"fmt"
)

// Kinds of failure, for callers to branch on with errors.Is. Every error
// ReadDocx, ParseInforme and Parse return for bad input is an *Error whose
// Kind is one of these.
var (
	// ErrTooLarge: the file is larger than MaxFileSize.
	ErrTooLarge = errors.New("ingest: file too large")
	// ErrNotDocx: the file is not a zip archive, so not a .docx.
	ErrNotDocx = errors.New("ingest: not a docx file")
	// ErrLegacyDoc: an old binary Word document (.doc, an OLE compound file).
	ErrLegacyDoc = errors.New("ingest: legacy binary .doc")
	// ErrEncrypted: a password-protected .docx (an OLE compound file holding
	// EncryptionInfo and EncryptedPackage streams).
	ErrEncrypted = errors.New("ingest: encrypted document")
	// ErrNoDocument: a zip archive without word/document.xml.
	ErrNoDocument = errors.New("ingest: no word/document.xml")
	// ErrUnsafeXML: an XML part declares a DTD or entities.
	ErrUnsafeXML = errors.New("ingest: DTD or entity declaration")
	// ErrZipBomb: too many entries, entries that inflate past the limits, or
	// a document with more paragraphs or table cells than any informe.
	ErrZipBomb = errors.New("ingest: archive inflates past the limits")
	// ErrMalformed: the archive or its XML is damaged.
	ErrMalformed = errors.New("ingest: malformed document")
	// ErrNoAlertas: the alertas vigentes table could not be found.
	ErrNoAlertas = errors.New("ingest: alertas table not found")
	// ErrNoFecha: the Fecha/Hora table could not be found.
	ErrNoFecha = errors.New("ingest: fecha/hora table not found")
	// ErrBadDate: the Fecha cell holds no date we can read.
	ErrBadDate = errors.New("ingest: unreadable date")
	// ErrNoEdition: neither the file name, the title nor the time says AM or PM.
	ErrNoEdition = errors.New("ingest: edition unknown")
)

// Error is a rejected informe. Title and Detail are Spanish (es-CL) and
// written for the operator who uploaded the file, so the web layer can show
// them as they are; Kind is one of the Err sentinels above and Err the
// underlying cause, if any.
type Error struct {
	Kind   error
	Title  string
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s (%v)", e.Title, e.Detail, e.Err)
	}
	return e.Title + ": " + e.Detail
}

// Is reports whether target is the error's Kind, so errors.Is(err,
// ingest.ErrEncrypted) works without errors.As.
func (e *Error) Is(target error) bool { return target != nil && target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

func newError(kind error, title, detail string, cause error) *Error {
	return &Error{Kind: kind, Title: title, Detail: detail, Err: cause}
}

func errMalformed(part string, cause error) *Error {
	return newError(ErrMalformed, "El documento está dañado",
		fmt.Sprintf("No se pudo leer la parte %s del documento. Ábralo en Word, guárdelo de nuevo como .docx y vuelva a subirlo.", part), cause)
}

func errZipBomb(detail string) *Error {
	return newError(ErrZipBomb, "El documento se descomprime a un tamaño excesivo", detail, nil)
}
