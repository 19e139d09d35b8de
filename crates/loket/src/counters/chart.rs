//! Charts as server-made SVG (no script, no web font), with the numbers as CSV or XLSX.

use std::fmt::Write;

use super::dashboard::Chart;
use crate::i18n::Lang;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A round axis maximum (1, 2 or 5 × 10^n) at or above `max`.
fn nice_max(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Thousands with a dot, as Indonesian readers write them.
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A series' name in `lang` (the code stays in the CSV and the API).
pub fn column_label(code: &str, lang: Lang) -> &'static str {
    lang.t(&format!("chart.{code}"))
}

/// A period end as pages write dates (31-12-2025); the CSV keeps ISO dates.
pub fn period_label(label: &str) -> String {
    label
        .parse::<chrono::NaiveDate>()
        .map_or_else(|_| label.to_string(), crate::format::date)
}

/// The short axis label: months as MM-YYYY, weeks (which end on any day) as DD-MM.
fn axis_label(label: &str, weekly: bool) -> String {
    let part = |range: std::ops::Range<usize>| label.get(range).unwrap_or(label);
    if weekly {
        format!("{}-{}", part(8..10), part(5..7))
    } else {
        format!("{}-{}", part(5..7), part(0..4))
    }
}

/// A one-sentence summary for screen readers: the last value of each series.
pub fn summary(chart: &Chart, lang: Lang) -> String {
    let Some(last) = chart.rows.last() else {
        return lang.pick("Belum ada data.", "No data yet.").to_string();
    };
    let parts: Vec<String> = chart
        .columns
        .iter()
        .zip(&last.values)
        .filter_map(|(c, v)| v.map(|v| format!("{} {}", column_label(c, lang), group(v))))
        .collect();
    format!(
        "{} {}: {}",
        lang.pick("Per", "On"),
        period_label(&last.label),
        parts.join(", ")
    )
}

/// Bars for the first series, diamonds for the second (the target where one is due).
pub fn svg(chart: &Chart, lang: Lang) -> String {
    let title = lang.pick(&chart.title, &chart.title_en);
    let max = chart
        .rows
        .iter()
        .flat_map(|r| r.values.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    let top = nice_max(max) as f64;
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = chart.rows.len().max(1) as f64;
    let slot = plot_w / n;
    let y = |v: i64| TOP + plot_h - (v as f64 / top) * plot_h;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"c-{k}-t c-{k}-d\" class=\"chart\">\
         <title id=\"c-{k}-t\">{t}</title><desc id=\"c-{k}-d\">{d}</desc>",
        k = chart.key,
        t = escape(title),
        d = escape(&summary(chart, lang)),
    );
    for i in 0..=4 {
        let v = (top as i64) * i / 4;
        let yy = y(v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{WIDTH}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#d9dde3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#5b6472\">{}</text>",
            LEFT - 4.0,
            yy + 4.0,
            group(v)
        );
    }
    let label_every = (chart.rows.len() / 8).max(1);
    for (i, row) in chart.rows.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        if let Some(Some(v)) = row.values.first() {
            let _ = write!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#0b4f8a\"><title>{} {}</title></rect>",
                x + slot * 0.15,
                y(*v),
                slot * 0.7,
                (TOP + plot_h - y(*v)).max(0.0),
                escape(&period_label(&row.label)),
                group(*v)
            );
        }
        if let Some(Some(t)) = row.values.get(1) {
            let (cx, cy) = (x + slot * 0.5, y(*t));
            let _ = write!(
                s,
                "<path d=\"M{cx:.1} {:.1} L{:.1} {cy:.1} L{cx:.1} {:.1} L{:.1} {cy:.1} Z\" fill=\"#c77c00\" stroke=\"#fff\"><title>{} {} {}</title></path>",
                cy - 7.0,
                cx + 7.0,
                cy + 7.0,
                cx - 7.0,
                column_label("target", lang),
                escape(&period_label(&row.label)),
                group(*t)
            );
        }
        if i % label_every == 0 || i + 1 == chart.rows.len() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\" fill=\"#1b1b1b\">{}</text>",
                x + slot * 0.5,
                HEIGHT - BOTTOM + 14.0,
                escape(&axis_label(&row.label, chart.key == "weekly"))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The chart's numbers as CSV (UTF-8 with BOM, so Excel reads it right).
pub fn csv_bytes(chart: &Chart) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
    let mut header = vec!["period_end".to_string()];
    header.extend(chart.columns.iter().cloned());
    w.write_record(&header)?;
    for row in &chart.rows {
        let mut record = vec![row.label.clone()];
        record.extend(
            row.values
                .iter()
                .map(|v| v.map(|v| v.to_string()).unwrap_or_default()),
        );
        w.write_record(&record)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

/// The chart's numbers as an Excel workbook (numbers as numbers, periods as text).
pub fn xlsx_bytes(chart: &Chart) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "period_end")?;
    for (i, c) in chart.columns.iter().enumerate() {
        sheet.write_string(0, (i + 1) as u16, c)?;
    }
    for (r, row) in chart.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        sheet.write_string(r, 0, &row.label)?;
        for (i, v) in row.values.iter().enumerate() {
            if let Some(v) = v {
                sheet.write_number(r, (i + 1) as u16, *v as f64)?;
            }
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::counters::dashboard::ChartRow;

    fn chart() -> Chart {
        Chart {
            key: "reach".into(),
            title: "Judul <x>".into(),
            title_en: "Title".into(),
            columns: vec!["reached".into(), "target".into()],
            rows: vec![
                ChartRow {
                    label: "2021-06-30".into(),
                    values: vec![Some(1200), None],
                },
                ChartRow {
                    label: "2021-07-31".into(),
                    values: vec![Some(5400), Some(110_000)],
                },
            ],
        }
    }

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice_max(0), 1);
        assert_eq!(nice_max(7), 10);
        assert_eq!(nice_max(92), 100);
        assert_eq!(nice_max(110_000), 200_000);
    }

    #[test]
    fn thousands_are_grouped_with_dots() {
        assert_eq!(group(110_000), "110.000");
        assert_eq!(group(92), "92");
        assert_eq!(group(1_000_000), "1.000.000");
    }

    #[test]
    fn the_svg_has_a_title_a_description_and_escapes_text() {
        crate::app::register_texts();
        let svg = svg(&chart(), Lang::Id);
        assert!(svg.contains("<title id=\"c-reach-t\">Judul &lt;x&gt;</title>"));
        assert!(svg.contains("Per 31-07-2021: terjangkau 5.400, target 110.000"));
        assert!(svg.contains(">07-2021</text>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(svg.matches("<path").count(), 1);
    }

    #[test]
    fn csv_has_the_same_numbers() {
        let text = String::from_utf8(csv_bytes(&chart()).unwrap()).unwrap();
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "period_end,reached,target\n2021-06-30,1200,\n2021-07-31,5400,110000\n"
        );
        assert!(xlsx_bytes(&chart()).unwrap().starts_with(b"PK"));
    }
}
