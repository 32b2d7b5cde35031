//! Headless rendering with Slint's software renderer: a minimal platform whose only window is a
//! [`MinimalSoftwareWindow`] drawing into a 1080×1920 RGB buffer. Used by `zizhu screenshot`,
//! the picture tests and the UI benchmarks. Slint allows one platform per process, so a process
//! that renders headless cannot also open a real window (or use the testing backend).
use std::path::Path;
use std::rc::Rc;

use slint::platform::software_renderer::{MinimalSoftwareWindow, RepaintBufferType};
use slint::platform::{Platform, WindowAdapter};
use slint::{ComponentHandle, PhysicalSize, Rgb8Pixel};

use super::{KioskError, KioskUi, Options, ScreenSpec};

/// Width of the portrait kiosk screen in pixels.
pub const WIDTH: u32 = 1080;
/// Height of the portrait kiosk screen in pixels.
pub const HEIGHT: u32 = 1920;

struct HeadlessPlatform {
    window: Rc<MinimalSoftwareWindow>,
}

impl Platform for HeadlessPlatform {
    fn create_window_adapter(&self) -> Result<Rc<dyn WindowAdapter>, slint::PlatformError> {
        Ok(self.window.clone())
    }
}

/// The kiosk UI in an off-screen window, with its frame buffer.
pub struct HeadlessKiosk {
    ui: KioskUi,
    window: Rc<MinimalSoftwareWindow>,
    buffer: Vec<Rgb8Pixel>,
    last_area: u64,
}

impl HeadlessKiosk {
    /// Installs the headless platform (once per process) and creates the kiosk UI on it, shown
    /// at 1080×1920 but not yet drawn.
    pub fn new(options: Options) -> Result<HeadlessKiosk, KioskError> {
        let window = MinimalSoftwareWindow::new(RepaintBufferType::ReusedBuffer);
        slint::platform::set_platform(Box::new(HeadlessPlatform {
            window: window.clone(),
        }))
        .map_err(|e| KioskError::Headless(e.to_string()))?;
        let ui = KioskUi::new(options)?;
        window.set_size(PhysicalSize::new(WIDTH, HEIGHT));
        ui.window().show()?;
        Ok(HeadlessKiosk {
            ui,
            window,
            buffer: vec![Rgb8Pixel::new(0, 0, 0); (WIDTH * HEIGHT) as usize],
            last_area: 0,
        })
    }

    /// The kiosk UI (to change screens, press things, switch language).
    pub fn ui(&self) -> &KioskUi {
        &self.ui
    }

    /// Runs due timers and repaints what changed since the last frame. Returns the size of the
    /// repainted box (0×0 when nothing changed).
    pub fn render(&mut self) -> (u32, u32) {
        self.draw(false)
    }

    /// Repaints every pixel (the renderer forgets what it drew before).
    pub fn render_full(&mut self) -> (u32, u32) {
        self.window.request_redraw();
        self.draw(true)
    }

    fn draw(&mut self, full: bool) -> (u32, u32) {
        slint::platform::update_timers_and_animations();
        let buffer = &mut self.buffer;
        let mut size = (0, 0);
        let mut area = 0;
        self.window.draw_if_needed(|r| {
            if full {
                r.set_repaint_buffer_type(RepaintBufferType::NewBuffer);
            }
            let region = r.render(buffer, WIDTH as usize);
            if full {
                r.set_repaint_buffer_type(RepaintBufferType::ReusedBuffer);
            }
            area = region
                .iter()
                .map(|(_, s)| u64::from(s.width) * u64::from(s.height))
                .sum();
            let s = region.bounding_box_size();
            size = (s.width, s.height);
        });
        self.last_area = area;
        size
    }

    /// Pixels repainted by the last `render` (the sum of the repainted boxes, at most three;
    /// their bounding box, which `render` returns, may be much larger).
    pub fn last_repaint_area(&self) -> u64 {
        self.last_area
    }

    /// The frame buffer, row by row, 1080 pixels a row.
    pub fn pixels(&self) -> &[Rgb8Pixel] {
        &self.buffer
    }

    /// Writes the current frame as an 8-bit RGB PNG.
    pub fn write_png(&self, path: &Path) -> Result<(), KioskError> {
        let err = |message: String| KioskError::Write {
            path: path.to_path_buf(),
            message,
        };
        let file = std::fs::File::create(path).map_err(|e| err(e.to_string()))?;
        let mut enc = png::Encoder::new(std::io::BufWriter::new(file), WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| err(e.to_string()))?;
        // Row by row: no second copy of the 6 MB frame (peak memory is a goal).
        let mut stream = writer.stream_writer().map_err(|e| err(e.to_string()))?;
        let mut row = Vec::with_capacity(WIDTH as usize * 3);
        for line in self.buffer.chunks(WIDTH as usize) {
            row.clear();
            row.extend(line.iter().flat_map(|p| [p.r, p.g, p.b]));
            std::io::Write::write_all(&mut stream, &row).map_err(|e| err(e.to_string()))?;
        }
        stream.finish().map_err(|e| err(e.to_string()))
    }
}

/// Renders one screen to a PNG file (what `zizhu screenshot` does).
/// Logs (at debug level) how long creating the UI, the first frame and the PNG took; the
/// startup benchmark (benches/startup.sh) reads that line.
pub fn render_png(options: Options, spec: &ScreenSpec, path: &Path) -> Result<(), KioskError> {
    let t0 = std::time::Instant::now();
    let mut kiosk = HeadlessKiosk::new(options)?;
    kiosk.ui().show_screen(spec)?;
    let created = t0.elapsed();
    kiosk.render();
    let frame = t0.elapsed();
    kiosk.write_png(path)?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    tracing::debug!(
        create_ms = ms(created),
        first_frame_ms = ms(frame),
        png_ms = ms(t0.elapsed() - frame),
        "screenshot timing"
    );
    Ok(())
}
