//! A small PDF writer for the documents Settle issues (customer statements, the demo's signed
//! authorizations): US Letter pages of text in Helvetica and Helvetica-Bold (two of the
//! standard fonts every reader has, WinAnsi-encoded), right-aligned figures measured with the
//! fonts' published widths, rules, shaded bands and web links. PDF 1.4, one content stream
//! per page, an exact cross-reference table.

/// US Letter, in points.
pub const WIDTH: f32 = 612.0;
pub const HEIGHT: f32 = 792.0;

/// Helvetica's advance widths (per 1000 em) for the printable ASCII characters 32–126, from
/// Adobe's font metrics.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// Helvetica-Bold's.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

/// A character in WinAnsiEncoding (`?` where it has none).
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '™' => 0x99,
        _ => b'?',
    }
}

/// How wide `text` is at `size` points.
pub fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    let widths = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    let units: u32 = text
        .chars()
        .map(|c| match win_ansi(c) {
            b @ 32..=126 => u32::from(widths[usize::from(b - 32)]),
            0x96 => 556,
            0x97 => 1000,
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

/// A PDF literal string of `text`, WinAnsi bytes with `(`, `)` and `\` escaped.
fn literal(text: &str) -> Vec<u8> {
    let mut out = vec![b'('];
    for c in text.chars() {
        let b = win_ansi(c);
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b')');
    out
}

/// One page being drawn: coordinates in points from the bottom left.
#[derive(Default)]
pub struct Page {
    content: Vec<u8>,
    links: Vec<([f32; 4], String)>,
}

impl Page {
    fn op(&mut self, text: String) {
        self.content.extend_from_slice(text.as_bytes());
    }

    /// `text` with its baseline starting at (`x`, `y`).
    pub fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let font = if bold { "F2" } else { "F1" };
        self.op(format!("BT /{font} {size} Tf {x:.2} {y:.2} Td "));
        self.content.extend(literal(text));
        self.op(" Tj ET\n".into());
    }

    /// `text` ending at `right`.
    pub fn text_right(&mut self, right: f32, y: f32, size: f32, bold: bool, text: &str) {
        let x = right - text_width(text, size, bold);
        self.text(x, y, size, bold, text);
    }

    /// `text` cut with an ellipsis to fit `width`.
    pub fn text_fit(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str, width: f32) {
        if text_width(text, size, bold) <= width {
            return self.text(x, y, size, bold, text);
        }
        let mut cut: String = text.to_string();
        while !cut.is_empty() && text_width(&format!("{cut}…"), size, bold) > width {
            cut.pop();
        }
        self.text(x, y, size, bold, &format!("{}…", cut.trim_end()));
    }

    /// A line from (`x1`, `y1`) to (`x2`, `y2`), `gray` 0 (black) to 1 (white).
    pub fn rule(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, gray: f32) {
        self.op(format!(
            "q {gray:.2} G {width:.2} w {x1:.2} {y1:.2} m {x2:.2} {y2:.2} l S Q\n"
        ));
    }

    /// A filled rectangle.
    pub fn band(&mut self, x: f32, y: f32, w: f32, h: f32, gray: f32) {
        self.op(format!(
            "q {gray:.2} g {x:.2} {y:.2} {w:.2} {h:.2} re f Q\n"
        ));
    }

    /// `text` that opens `url` when clicked.
    pub fn link(&mut self, x: f32, y: f32, size: f32, text: &str, url: &str) {
        self.text(x, y, size, false, text);
        let w = text_width(text, size, false);
        self.rule(x, y - 1.5, x + w, y - 1.5, 0.5, 0.0);
        self.links
            .push(([x, y - 3.0, x + w, y + size], url.to_string()));
    }
}

/// A document of pages, written out whole.
#[derive(Default)]
pub struct Document {
    pages: Vec<Page>,
    title: String,
}

impl Document {
    pub fn new(title: &str) -> Document {
        Document {
            pages: Vec::new(),
            title: title.to_string(),
        }
    }

    /// A new blank page, drawn on through the returned reference.
    pub fn page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        self.pages.last_mut().expect("just pushed")
    }

    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// Every page so far, to draw on again (a footer once the count is known).
    pub fn pages_mut(&mut self) -> impl Iterator<Item = &mut Page> {
        self.pages.iter_mut()
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        // Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Helvetica-Bold, 5 info, then per page
        // its page, its content and its links.
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            Vec::new(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
                .to_vec(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
                .to_vec(),
            [b"<< /Producer (Settle) /Title ".as_slice(), &literal(&self.title), b" >>"].concat(),
        ];
        let mut kids = Vec::new();
        for page in self.pages {
            let page_id = objects.len() + 1;
            let content_id = page_id + 1;
            kids.push(format!("{page_id} 0 R"));
            let link_ids: Vec<usize> = (0..page.links.len()).map(|i| content_id + 1 + i).collect();
            let annots = if link_ids.is_empty() {
                String::new()
            } else {
                format!(
                    " /Annots [{}]",
                    link_ids
                        .iter()
                        .map(|id| format!("{id} 0 R"))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            };
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Contents {content_id} 0 R \
                     /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >>{annots} >>"
                )
                .into_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.content.len()).into_bytes();
            stream.extend(&page.content);
            stream.extend(b"\nendstream");
            objects.push(stream);
            for ([x1, y1, x2, y2], url) in page.links {
                let mut annot = format!(
                    "<< /Type /Annot /Subtype /Link /Rect [{x1:.2} {y1:.2} {x2:.2} {y2:.2}] /Border [0 0 0] /A << /S /URI /URI "
                )
                .into_bytes();
                annot.extend(literal(&url));
                annot.extend(b" >> >>");
                objects.push(annot);
            }
        }
        objects[1] = format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            kids.len()
        )
        .into_bytes();
        let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend(body);
            out.extend(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for o in offsets {
            out.extend(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_escaping_and_an_exact_cross_reference_table() {
        // "$1,250.00" in Helvetica: $ 556, 1 556, , 278, 2 556, 5 556, 0 556, . 278, 0 556, 0 556.
        assert!((text_width("$1,250.00", 10.0, false) - 44.48).abs() < 0.001);
        assert!(text_width("W", 10.0, true) > text_width("i", 10.0, true));
        assert_eq!(literal("a(b)\\c"), b"(a\\(b\\)\\\\c)".to_vec());
        assert_eq!(literal("Café – 5 €"), b"(Caf\xe9 \x96 5 \x80)".to_vec());
        let mut doc = Document::new("Test (1)");
        let p = doc.page();
        p.text(72.0, 720.0, 12.0, true, "Hello");
        p.link(72.0, 700.0, 10.0, "Pay", "https://pay.example/x?a=1");
        doc.page().text_right(540.0, 720.0, 10.0, false, "$1.00");
        let bytes = doc.finish();
        let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert!(has(b"/Count 2"));
        assert!(has(b"/URI (https://pay.example/x?a=1)"));
        // Every offset in the table points at its object.
        let tail = bytes
            .windows(10)
            .rposition(|w| w == b"startxref\n")
            .unwrap()
            + 10;
        let xref_at: usize = std::str::from_utf8(&bytes[tail..])
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = std::str::from_utf8(&bytes[xref_at..]).unwrap();
        let entries: Vec<&str> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert_eq!(entries.len(), 10, "5 shared objects, 2 pages of 2, a link");
        for (i, line) in entries.iter().enumerate() {
            let at: usize = line[..10].parse().unwrap();
            assert!(
                bytes[at..].starts_with(format!("{} 0 obj", i + 1).as_bytes()),
                "object {}",
                i + 1
            );
        }
    }
}
