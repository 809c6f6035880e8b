package pbitest

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"time"
)

// Exported files are generated on the fly while they are sent, so a file
// of hundreds of megabytes never sits in memory. Each format puts the
// padding needed to reach Options.ExportFileSize where the format allows
// arbitrary bytes: a PDF content stream of blanks, a PNG tEXt chunk, a
// stored entry of the PPTX package.

// maxExportFileSize bounds Options.ExportFileSize: a PNG chunk and a zip
// entry without zip64 both stop at 2 GiB.
const maxExportFileSize = 1<<31 - 1

// exportFile is a file ready to be sent.
type exportFile struct {
	size  int64
	write func(io.Writer) error
}

// exportContent is what an export renders.
type exportContent struct {
	reportName string
	pages      []Page
	created    time.Time // stamped on zip entries

	// Paginated reports only.
	parameters  []paramValue
	imageFormat string // IMAGE's OutputFormat
}

// paramValue is a paginated report parameter value of an export request.
type paramValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// renderExport builds the file of an export in format (PDF, PPTX or PNG),
// of size target when target > 0 (exactly, unless target is smaller than
// the file without padding).
func renderExport(format string, c exportContent, target int64) (exportFile, error) {
	target = min(target, maxExportFileSize)
	switch format {
	case "PDF", "ACCESSIBLEPDF":
		return sized(target, func(w io.Writer, pad int64, slack int) error { return writePDF(w, c, pad, slack) })
	case "PPTX":
		return sized(target, func(w io.Writer, pad int64, _ int) error { return writePPTX(w, c, pad) })
	case "PNG":
		if len(c.pages) == 1 {
			img := pageImage(c.reportName, c.pages[0], 0)
			return sized(target, func(w io.Writer, pad int64, _ int) error { return writePNG(w, img, pad) })
		}
		return sized(target, func(w io.Writer, pad int64, _ int) error { return writePNGZip(w, c, pad) })
	}
	if paginatedOnlyFormats[format] {
		return renderPaginated(format, c)
	}
	return exportFile{}, fmt.Errorf("pbitest: no renderer for %s", format)
}

// renderer writes a file with pad bytes of padding and slack extra blanks
// (formats whose size has a few discontinuities, like PDF's decimal
// offsets, use slack to land on an exact size).
type renderer func(w io.Writer, pad int64, slack int) error

// sized finds the padding that makes the file target bytes long. Sizes are
// measured by rendering into a counter, which counts padding without
// producing it.
func sized(target int64, render renderer) (exportFile, error) {
	size := func(pad int64, slack int) (int64, error) {
		c := &counter{}
		err := render(c, pad, slack)
		return c.n, err
	}
	base, err := size(0, 0)
	if err != nil {
		return exportFile{}, err
	}
	pad, slack, total := int64(0), 0, base
	if target > base {
	search:
		// The size grows by one per padding byte, plus the odd extra digit
		// in an offset or length; step down from the estimate.
		for p := target - base; p >= max(0, target-base-64); p-- {
			for sl := 0; sl < 8; sl++ {
				n, err := size(p, sl)
				if err != nil {
					return exportFile{}, err
				}
				if n == target {
					pad, slack, total = p, sl, n
					break search
				}
			}
		}
	}
	return exportFile{size: total, write: func(w io.Writer) error { return render(w, pad, slack) }}, nil
}

// counter is an io.Writer that only counts.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

var blanks = bytes.Repeat([]byte{' '}, 32<<10)

// writePadding writes n blanks, in small pieces. A counter is told the
// size directly.
func writePadding(w io.Writer, n int64) error {
	if c, ok := w.(*counter); ok {
		c.n += n
		return nil
	}
	for n > 0 {
		chunk := blanks[:min(n, int64(len(blanks)))]
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		n -= int64(len(chunk))
	}
	return nil
}

// offsetWriter tracks how many bytes have been written, for PDF offsets.
type offsetWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (o *offsetWriter) printf(format string, args ...any) {
	if o.err != nil {
		return
	}
	n, err := fmt.Fprintf(o.w, format, args...)
	o.n += int64(n)
	o.err = err
}

func (o *offsetWriter) pad(n int64) {
	if o.err != nil {
		return
	}
	o.err = writePadding(o.w, n)
	o.n += n
}

// pdfText makes a PDF literal string of s: ASCII only, with the three
// special characters escaped.
func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// writePDF writes a PDF 1.7 file with one 16:9 page per report page. The
// padding is a second content stream of the last page, made of blanks
// (which draw nothing), and slack blanks sit in its dictionary.
func writePDF(w io.Writer, c exportContent, pad int64, slack int) error {
	o := &offsetWriter{w: w}
	n := len(c.pages)
	// Objects: 1 catalog, 2 page tree, 3 font, then page and content per
	// page, then the padding stream.
	pageObj := func(i int) int { return 4 + 2*i }
	padObj := 4 + 2*n
	offsets := make([]int64, padObj+1)

	o.printf("%%PDF-1.7\n%%\xe2\xe3\xcf\xd3\n")
	begin := func(obj int) { offsets[obj] = o.n; o.printf("%d 0 obj\n", obj) }

	begin(1)
	o.printf("<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	begin(2)
	kids := make([]string, n)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", pageObj(i))
	}
	o.printf("<< /Type /Pages /Kids [%s] /Count %d >>\nendobj\n", strings.Join(kids, " "), n)
	begin(3)
	o.printf("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n")
	for i, p := range c.pages {
		contents := fmt.Sprintf("%d 0 R", pageObj(i)+1)
		if i == n-1 {
			contents = fmt.Sprintf("[%s %d 0 R]", contents, padObj)
		}
		begin(pageObj(i))
		o.printf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 960 540] /Resources << /Font << /F1 3 0 R >> >> /Contents %s >>\nendobj\n", contents)
		stream := fmt.Sprintf("0.95 0.77 0.06 rg 0 500 960 40 re f\nBT /F1 28 Tf 40 440 Td (%s) Tj ET\nBT /F1 18 Tf 40 400 Td (%s) Tj ET\n0.2 0.4 0.8 rg 80 80 120 240 re f 240 80 120 160 re f 400 80 120 280 re f\n",
			pdfText(c.reportName), pdfText(p.DisplayName))
		begin(pageObj(i) + 1)
		o.printf("<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", len(stream), stream)
	}
	begin(padObj)
	o.printf("<< /Length %d%s >>\nstream\n", pad, strings.Repeat(" ", slack))
	o.pad(pad)
	o.printf("\nendstream\nendobj\n")

	xref := o.n
	o.printf("xref\n0 %d\n0000000000 65535 f \n", padObj+1)
	for _, off := range offsets[1:] {
		o.printf("%010d 00000 n \n", off)
	}
	o.printf("trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", padObj+1, xref)
	return o.err
}

// pageImage draws a small picture of a report page: a header band and a
// bar chart whose bars depend on the page, so pages differ.
func pageImage(reportName string, p Page, index int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 320, 180))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, 320, 24), image.NewUniform(color.RGBA{0xF2, 0xC8, 0x11, 0xFF}), image.Point{}, draw.Src)
	seed := crc32.ChecksumIEEE([]byte(reportName + "/" + p.Name))
	for bar := range 6 {
		h := 20 + int((seed>>(bar*4))&0xF)*8
		x := 24 + bar*48
		shade := uint8(0x60 + 0x10*((index+bar)%6))
		draw.Draw(img, image.Rect(x, 170-h, x+32, 170), image.NewUniform(color.RGBA{0x1F, shade, 0xC0, 0xFF}), image.Point{}, draw.Src)
	}
	return img
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pngCommentKeyword starts the padding tEXt chunk.
const pngCommentKeyword = "Comment\x00"

// writePNG writes img as a PNG. Padding, when asked for, is a tEXt chunk
// (keyword "Comment" and blanks) before IEND; the chunk's 20 bytes of
// framing count towards the padding.
func writePNG(w io.Writer, img image.Image, pad int64) error {
	data, err := encodePNG(img)
	if err != nil {
		return err
	}
	const iendLen = 12 // length, "IEND", CRC
	body, iend := data[:len(data)-iendLen], data[len(data)-iendLen:]
	if _, err := w.Write(body); err != nil {
		return err
	}
	if text := pad - 12 - int64(len(pngCommentKeyword)); text >= 0 {
		if err := writeTextChunk(w, text); err != nil {
			return err
		}
	}
	_, err = w.Write(iend)
	return err
}

// writeTextChunk writes a tEXt chunk of n blanks, computing its CRC as
// the blanks go out.
func writeTextChunk(w io.Writer, n int64) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(int64(len(pngCommentKeyword))+n))
	copy(head[4:], "tEXt")
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write([]byte(pngCommentKeyword))
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	if _, err := io.WriteString(w, pngCommentKeyword); err != nil {
		return err
	}
	// The checksum of the blanks is needed even when only counting.
	for left := n; left > 0; {
		chunk := blanks[:min(left, int64(len(blanks)))]
		crc.Write(chunk)
		left -= int64(len(chunk))
	}
	if err := writePadding(w, n); err != nil {
		return err
	}
	var sum [4]byte
	binary.BigEndian.PutUint32(sum[:], crc.Sum32())
	_, err := w.Write(sum[:])
	return err
}

// writePNGZip writes what a multi-page PNG export is: a zip with one PNG per
// page, named after the page. The first image carries the padding.
func writePNGZip(w io.Writer, c exportContent, pad int64) error {
	zw := zip.NewWriter(w)
	for i, p := range c.pages {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p.Name + ".png", Method: zip.Store, Modified: c.created})
		if err != nil {
			return err
		}
		pagePad := int64(0)
		if i == 0 {
			pagePad = pad
		}
		if err := writePNG(f, pageImage(c.reportName, p, i), pagePad); err != nil {
			return err
		}
	}
	return zw.Close()
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// OOXML namespaces and relationship types used by the PPTX package.
const (
	nsPresentation  = `xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"`
	relDoc          = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
	xmlDecl         = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\r\n"
	emptyTree       = `<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>`
	pptxPaddingPart = "ppt/media/padding.bin"
)

func relationships(rels ...[3]string) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	for _, r := range rels {
		fmt.Fprintf(&b, `<Relationship Id="%s" Type="%s" Target="%s"/>`, r[0], relDoc+r[1], r[2])
	}
	b.WriteString(`</Relationships>`)
	return b.String()
}

// pptxTheme is a complete minimal Office theme; PowerPoint requires one
// for the slide master.
const pptxTheme = xmlDecl + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office Theme"><a:themeElements>` +
	`<a:clrScheme name="Office"><a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>` +
	`<a:dk2><a:srgbClr val="44546A"/></a:dk2><a:lt2><a:srgbClr val="E7E6E6"/></a:lt2><a:accent1><a:srgbClr val="4472C4"/></a:accent1>` +
	`<a:accent2><a:srgbClr val="ED7D31"/></a:accent2><a:accent3><a:srgbClr val="A5A5A5"/></a:accent3><a:accent4><a:srgbClr val="FFC000"/></a:accent4>` +
	`<a:accent5><a:srgbClr val="5B9BD5"/></a:accent5><a:accent6><a:srgbClr val="70AD47"/></a:accent6><a:hlink><a:srgbClr val="0563C1"/></a:hlink>` +
	`<a:folHlink><a:srgbClr val="954F72"/></a:folHlink></a:clrScheme>` +
	`<a:fontScheme name="Office"><a:majorFont><a:latin typeface="Segoe UI"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>` +
	`<a:minorFont><a:latin typeface="Segoe UI"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont></a:fontScheme>` +
	`<a:fmtScheme name="Office"><a:fillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:fillStyleLst>` +
	`<a:lnStyleLst><a:ln w="6350"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="12700"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln><a:ln w="19050"><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:ln></a:lnStyleLst>` +
	`<a:effectStyleLst><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle><a:effectStyle><a:effectLst/></a:effectStyle></a:effectStyleLst>` +
	`<a:bgFillStyleLst><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill><a:solidFill><a:schemeClr val="phClr"/></a:solidFill></a:bgFillStyleLst></a:fmtScheme>` +
	`</a:themeElements></a:theme>`

// writePPTX writes a PowerPoint package with one slide per report page.
// The padding is a stored part of blanks (ppt/media/padding.bin, typed
// application/octet-stream); a stored zip entry grows by exactly its data.
func writePPTX(w io.Writer, c exportContent, pad int64) error {
	zw := zip.NewWriter(w)
	add := func(name, content string) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: c.created})
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, content)
		return err
	}

	var types strings.Builder
	types.WriteString(xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Default Extension="bin" ContentType="application/octet-stream"/>` +
		`<Override PartName="/ppt/presentation.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>` +
		`<Override PartName="/ppt/slideMasters/slideMaster1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideMaster+xml"/>` +
		`<Override PartName="/ppt/slideLayouts/slideLayout1.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slideLayout+xml"/>` +
		`<Override PartName="/ppt/theme/theme1.xml" ContentType="application/vnd.openxmlformats-officedocument.theme+xml"/>`)
	var slideIDs strings.Builder
	presRels := [][3]string{{"rId1", "slideMaster", "slideMasters/slideMaster1.xml"}}
	for i := range c.pages {
		fmt.Fprintf(&types, `<Override PartName="/ppt/slides/slide%d.xml" ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>`, i+1)
		fmt.Fprintf(&slideIDs, `<p:sldId id="%d" r:id="rId%d"/>`, 256+i, i+2)
		presRels = append(presRels, [3]string{fmt.Sprintf("rId%d", i+2), "slide", fmt.Sprintf("slides/slide%d.xml", i+1)})
	}
	presRels = append(presRels, [3]string{fmt.Sprintf("rId%d", len(c.pages)+2), "theme", "theme/theme1.xml"})
	types.WriteString(`</Types>`)

	parts := []struct{ name, content string }{
		{"[Content_Types].xml", types.String()},
		{"_rels/.rels", relationships([3]string{"rId1", "officeDocument", "ppt/presentation.xml"})},
		{"ppt/presentation.xml", xmlDecl + `<p:presentation ` + nsPresentation + `>` +
			`<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>` +
			`<p:sldIdLst>` + slideIDs.String() + `</p:sldIdLst>` +
			`<p:sldSz cx="12192000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/></p:presentation>`},
		{"ppt/_rels/presentation.xml.rels", relationships(presRels...)},
		{"ppt/slideMasters/slideMaster1.xml", xmlDecl + `<p:sldMaster ` + nsPresentation + `><p:cSld><p:spTree>` + emptyTree + `</p:spTree></p:cSld>` +
			`<p:clrMap bg1="lt1" tx1="dk1" bg2="lt2" tx2="dk2" accent1="accent1" accent2="accent2" accent3="accent3" accent4="accent4" accent5="accent5" accent6="accent6" hlink="hlink" folHlink="folHlink"/>` +
			`<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst></p:sldMaster>`},
		{"ppt/slideMasters/_rels/slideMaster1.xml.rels", relationships(
			[3]string{"rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"},
			[3]string{"rId2", "theme", "../theme/theme1.xml"})},
		{"ppt/slideLayouts/slideLayout1.xml", xmlDecl + `<p:sldLayout ` + nsPresentation + ` type="blank"><p:cSld name="Blank"><p:spTree>` + emptyTree +
			`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>`},
		{"ppt/slideLayouts/_rels/slideLayout1.xml.rels", relationships([3]string{"rId1", "slideMaster", "../slideMasters/slideMaster1.xml"})},
		{"ppt/theme/theme1.xml", pptxTheme},
	}
	for i, p := range c.pages {
		title := xmlText(c.reportName + " - " + p.DisplayName)
		parts = append(parts,
			struct{ name, content string }{fmt.Sprintf("ppt/slides/slide%d.xml", i+1), xmlDecl + `<p:sld ` + nsPresentation + `><p:cSld><p:spTree>` + emptyTree +
				`<p:sp><p:nvSpPr><p:cNvPr id="2" name="Title"/><p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>` +
				`<p:spPr><a:xfrm><a:off x="457200" y="274638"/><a:ext cx="11277600" cy="1143000"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></p:spPr>` +
				`<p:txBody><a:bodyPr/><a:lstStyle/><a:p><a:r><a:rPr lang="en-US" sz="3200"/><a:t>` + title + `</a:t></a:r></a:p></p:txBody></p:sp>` +
				`</p:spTree></p:cSld><p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>`},
			struct{ name, content string }{fmt.Sprintf("ppt/slides/_rels/slide%d.xml.rels", i+1),
				relationships([3]string{"rId1", "slideLayout", "../slideLayouts/slideLayout1.xml"})},
		)
	}
	for _, p := range parts {
		if err := add(p.name, p.content); err != nil {
			return err
		}
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: pptxPaddingPart, Method: zip.Store, Modified: c.created})
	if err != nil {
		return err
	}
	if err := writePadding(f, pad); err != nil {
		return err
	}
	return zw.Close()
}

// Paginated reports render through their own engine into more formats.
// These files are small and have no padding: Options.ExportFileSize
// applies to PDF, PPTX and PNG, the formats benchmarks measure.

// paginatedRow is one row of the table every paginated export shows: the
// report's parameters as the request set them.
func paginatedRows(c exportContent) [][2]string {
	rows := [][2]string{{"Report", c.reportName}}
	for _, p := range c.parameters {
		rows = append(rows, [2]string{p.Name, p.Value})
	}
	return rows
}

// fixed wraps a rendered file of known bytes.
func fixed(b []byte) exportFile {
	return exportFile{size: int64(len(b)), write: func(w io.Writer) error { _, err := w.Write(b); return err }}
}

// renderPaginated builds the file of a paginated export in a format only
// paginated reports have.
func renderPaginated(format string, c exportContent) (exportFile, error) {
	var buf bytes.Buffer
	var err error
	switch format {
	case "XLSX":
		err = writeXLSX(&buf, c)
	case "DOCX":
		err = writeDOCX(&buf, c)
	case "CSV":
		buf.WriteString("Name,Value\r\n")
		for _, r := range paginatedRows(c) {
			fmt.Fprintf(&buf, "%s,%s\r\n", csvField(r[0]), csvField(r[1]))
		}
	case "XML":
		buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\r\n" +
			`<Report xmlns="` + xmlText(c.reportName) + `" Name="` + xmlText(c.reportName) + `"><Tablix1><Details_Collection>`)
		for _, r := range paginatedRows(c) {
			fmt.Fprintf(&buf, `<Details Name="%s" Value="%s"/>`, xmlText(r[0]), xmlText(r[1]))
		}
		buf.WriteString(`</Details_Collection></Tablix1></Report>`)
	case "MHTML":
		writeMHTML(&buf, c)
	case "IMAGE":
		err = writeImage(&buf, c)
	default:
		return exportFile{}, fmt.Errorf("pbitest: no renderer for %s", format)
	}
	if err != nil {
		return exportFile{}, err
	}
	return fixed(buf.Bytes()), nil
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// writeOOXML writes a zip package of the given parts, in order.
func writeOOXML(w io.Writer, created time.Time, parts [][2]string) error {
	zw := zip.NewWriter(w)
	for _, p := range parts {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: p[0], Method: zip.Deflate, Modified: created})
		if err != nil {
			return err
		}
		if _, err := io.WriteString(f, p[1]); err != nil {
			return err
		}
	}
	return zw.Close()
}

const contentTypesStart = xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
	`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
	`<Default Extension="xml" ContentType="application/xml"/>`

// writeXLSX writes a minimal Excel workbook with one sheet of the rows.
func writeXLSX(w io.Writer, c exportContent) error {
	var sheet strings.Builder
	sheet.WriteString(xmlDecl + `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, r := range paginatedRows(c) {
		fmt.Fprintf(&sheet, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>%s</t></is></c><c r="B%d" t="inlineStr"><is><t>%s</t></is></c></row>`,
			i+1, i+1, xmlText(r[0]), i+1, xmlText(r[1]))
	}
	sheet.WriteString(`</sheetData></worksheet>`)
	return writeOOXML(w, c.created, [][2]string{
		{"[Content_Types].xml", contentTypesStart +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", relationships([3]string{"rId1", "officeDocument", "xl/workbook.xml"})},
		{"xl/workbook.xml", xmlDecl + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="` + xmlText(sheetName(c.reportName)) + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", relationships([3]string{"rId1", "worksheet", "worksheets/sheet1.xml"})},
		{"xl/worksheets/sheet1.xml", sheet.String()},
	})
}

// sheetName fits Excel's rules: at most 31 characters, none of []:*?/\.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	if s == "" {
		return "Sheet1"
	}
	return s
}

// writeDOCX writes a minimal Word document with one paragraph per row.
func writeDOCX(w io.Writer, c exportContent) error {
	var doc strings.Builder
	doc.WriteString(xmlDecl + `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	for _, r := range paginatedRows(c) {
		fmt.Fprintf(&doc, `<w:p><w:r><w:t xml:space="preserve">%s: %s</w:t></w:r></w:p>`, xmlText(r[0]), xmlText(r[1]))
	}
	doc.WriteString(`</w:body></w:document>`)
	return writeOOXML(w, c.created, [][2]string{
		{"[Content_Types].xml", contentTypesStart +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", relationships([3]string{"rId1", "officeDocument", "word/document.xml"})},
		{"word/document.xml", doc.String()},
	})
}

// writeMHTML writes a web archive: a MIME multipart/related message whose
// first part is the HTML page.
func writeMHTML(w *bytes.Buffer, c exportContent) {
	const boundary = "----=_NextPart_pbitest"
	fmt.Fprintf(w, "MIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\tboundary=\"%s\";\r\n\ttype=\"text/html\"\r\n\r\n", boundary)
	fmt.Fprintf(w, "--%s\r\nContent-Type: text/html; charset=\"utf-8\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", boundary)
	fmt.Fprintf(w, "<html><head><title>%s</title></head><body><table>", xmlText(c.reportName))
	for _, r := range paginatedRows(c) {
		fmt.Fprintf(w, "<tr><td>%s</td><td>%s</td></tr>", xmlText(r[0]), xmlText(r[1]))
	}
	fmt.Fprintf(w, "</table></body></html>\r\n--%s--\r\n", boundary)
}

// imageFormats are the OutputFormat values of the IMAGE renderer the fake
// draws, with the file extension and content type of each.
var imageFormats = map[string]exportFormat{
	"TIFF": {".tif", "image/tiff"},
	"PNG":  {".png", "image/png"},
	"JPEG": {".jpg", "image/jpeg"},
	"GIF":  {".gif", "image/gif"},
	"BMP":  {".bmp", "image/bmp"},
}

// writeImage draws the report as one image in c.imageFormat (TIFF when
// empty, as the service defaults).
func writeImage(w *bytes.Buffer, c exportContent) error {
	img := pageImage(c.reportName, Page{Name: "1", DisplayName: c.reportName}, 0)
	switch c.imageFormat {
	case "PNG":
		return png.Encode(w, img)
	case "JPEG":
		return jpeg.Encode(w, img, nil)
	case "GIF":
		return gif.Encode(w, img, nil)
	case "BMP":
		writeBMP(w, img)
		return nil
	default:
		writeTIFF(w, img)
		return nil
	}
}

// writeBMP writes img as an uncompressed 24-bit Windows bitmap.
func writeBMP(w *bytes.Buffer, img image.Image) {
	b := img.Bounds()
	rowSize := (b.Dx()*3 + 3) &^ 3
	pixels := rowSize * b.Dy()
	le := binary.LittleEndian
	w.WriteString("BM")
	_ = binary.Write(w, le, []uint32{uint32(54 + pixels), 0, 54, 40, uint32(b.Dx()), uint32(b.Dy())})
	_ = binary.Write(w, le, []uint16{1, 24})
	_ = binary.Write(w, le, []uint32{0, uint32(pixels), 2835, 2835, 0, 0})
	row := make([]byte, rowSize)
	for y := b.Max.Y - 1; y >= b.Min.Y; y-- { // bottom-up
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			i := (x - b.Min.X) * 3
			row[i], row[i+1], row[i+2] = byte(bl>>8), byte(g>>8), byte(r>>8)
		}
		w.Write(row)
	}
}

// writeTIFF writes img as a baseline little-endian RGB TIFF, one strip,
// uncompressed.
func writeTIFF(w *bytes.Buffer, img image.Image) {
	b := img.Bounds()
	width, height := b.Dx(), b.Dy()
	pixels := width * height * 3
	const entries = 10
	ifdOffset := 8 + pixels
	bpsOffset := ifdOffset + 2 + entries*12 + 4 // three BitsPerSample values follow the IFD
	le := binary.LittleEndian
	w.WriteString("II")
	_ = binary.Write(w, le, uint16(42))
	_ = binary.Write(w, le, uint32(ifdOffset))
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			w.Write([]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8)})
		}
	}
	entry := func(tag, typ uint16, count, value uint32) {
		_ = binary.Write(w, le, tag)
		_ = binary.Write(w, le, typ)
		_ = binary.Write(w, le, count)
		_ = binary.Write(w, le, value)
	}
	const short, long = 3, 4
	_ = binary.Write(w, le, uint16(entries))
	entry(256, long, 1, uint32(width))      // ImageWidth
	entry(257, long, 1, uint32(height))     // ImageLength
	entry(258, short, 3, uint32(bpsOffset)) // BitsPerSample: 8,8,8
	entry(259, short, 1, 1)                 // Compression: none
	entry(262, short, 1, 2)                 // PhotometricInterpretation: RGB
	entry(273, long, 1, 8)                  // StripOffsets
	entry(277, short, 1, 3)                 // SamplesPerPixel
	entry(278, long, 1, uint32(height))     // RowsPerStrip
	entry(279, long, 1, uint32(pixels))     // StripByteCounts
	entry(284, short, 1, 1)                 // PlanarConfiguration: chunky
	_ = binary.Write(w, le, uint32(0))      // no next IFD
	_ = binary.Write(w, le, []uint16{8, 8, 8})
}

// Report definition downloads (GET .../Export): a .pbix is a zip package
// with the report layout and, unless it connects live, the model; a
// paginated report comes back as its RDL.

// writePBIX writes a minimal .pbix package.
func writePBIX(w io.Writer, c exportContent, liveConnect bool, datasetID string) error {
	var layout strings.Builder
	layout.WriteString(`{"id":0,"sections":[`)
	for i, p := range c.pages {
		if i > 0 {
			layout.WriteByte(',')
		}
		fmt.Fprintf(&layout, `{"name":%q,"displayName":%q,"ordinal":%d,"visualContainers":[]}`, p.Name, p.DisplayName, i)
	}
	layout.WriteString(`]}`)
	parts := [][2]string{
		{"Version", "1.28"},
		{"[Content_Types].xml", xmlDecl + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="json" ContentType=""/><Override PartName="/Version" ContentType=""/>` +
			`<Override PartName="/Report/Layout" ContentType=""/><Override PartName="/DataModel" ContentType=""/>` +
			`<Override PartName="/Connections" ContentType=""/></Types>`},
		{"Report/Layout", layout.String()},
		{"Metadata", `{"version":5,"createdFrom":"Cloud"}`},
	}
	if liveConnect {
		parts = append(parts, [2]string{"Connections", fmt.Sprintf(`{"Version":1,"Connections":[{"Name":"EntityDataSource","ConnectionType":"pbiServiceLive","PbiModelDatabaseName":%q}]}`, datasetID)})
	} else {
		parts = append(parts, [2]string{"DataModel", "pbitest model of " + c.reportName})
	}
	return writeOOXML(w, c.created, parts)
}

// rdlDefinition is the report definition of a paginated report.
func rdlDefinition(c exportContent, sources []ReportDatasource) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\r\n" +
		`<Report xmlns="http://schemas.microsoft.com/sqlserver/reporting/2016/01/reportdefinition" xmlns:rd="http://schemas.microsoft.com/SQLServer/reporting/reportdesigner">` +
		`<DataSources>`)
	for i, d := range sources {
		fmt.Fprintf(&b, `<DataSource Name="DataSource%d"><ConnectionProperties><DataProvider>%s</DataProvider>`+
			`<ConnectString>Data Source=%s;Initial Catalog=%s</ConnectString></ConnectionProperties></DataSource>`,
			i+1, xmlText(strings.ToUpper(d.DatasourceType)), xmlText(d.Server), xmlText(d.Database))
	}
	b.WriteString(`</DataSources><ReportSections><ReportSection><Body><ReportItems><Textbox Name="Title"><Paragraphs><Paragraph><TextRuns><TextRun><Value>` +
		xmlText(c.reportName) + `</Value></TextRun></TextRuns></Paragraph></Paragraphs></Textbox></ReportItems><Height>2in</Height></Body>` +
		`<Width>6.5in</Width><Page><PageHeight>11in</PageHeight><PageWidth>8.5in</PageWidth></Page></ReportSection></ReportSections></Report>`)
	return b.String()
}
