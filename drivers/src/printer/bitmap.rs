//! A 1-bit bitmap in the printer's own layout (row-major, MSB = leftmost dot, 1 = black), an
//! embedded-graphics draw target, and PNG output.
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;

/// A 1-bit image; bit set = black dot.
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    stride: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

impl Bitmap {
    /// A white image.
    pub fn new(width: u32, height: u32) -> Self {
        let stride = width.div_ceil(8);
        Bitmap {
            width,
            height,
            stride,
            data: vec![0; (stride * height) as usize],
        }
    }
    /// From raster bytes (`stride` bytes per row; missing bytes are white).
    pub fn from_raster(stride: u32, height: u32, bytes: &[u8]) -> Self {
        let mut data = bytes.to_vec();
        data.resize((stride * height) as usize, 0);
        Bitmap {
            width: stride * 8,
            height,
            stride,
            data,
        }
    }
    /// Width in dots.
    pub fn width(&self) -> u32 {
        self.width
    }
    /// Height in dots.
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Bytes per row.
    pub fn stride(&self) -> u32 {
        self.stride
    }
    /// The raster bytes.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    /// Whether the dot at (x, y) is black (false outside).
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.data[(y * self.stride + x / 8) as usize] & (0x80 >> (x % 8)) != 0
    }
    /// Sets a dot (ignored outside).
    pub fn set(&mut self, x: u32, y: u32, black: bool) {
        if x >= self.width || y >= self.height {
            return;
        }
        let i = (y * self.stride + x / 8) as usize;
        let m = 0x80 >> (x % 8);
        if black {
            self.data[i] |= m;
        } else {
            self.data[i] &= !m;
        }
    }
    /// Fills a rectangle with black (clipped).
    pub fn fill_rect(&mut self, x: i32, y: i32, w: u32, h: u32) {
        for yy in y.max(0)..(y + h as i32).min(self.height as i32) {
            for xx in x.max(0)..(x + w as i32).min(self.width as i32) {
                self.set(xx as u32, yy as u32, true);
            }
        }
    }
    /// Grows (white) or shrinks to `height` rows.
    pub fn set_height(&mut self, height: u32) {
        self.height = height;
        self.data.resize((self.stride * height) as usize, 0);
    }
    /// Copies `src` with its top-left at (x, y), OR-ing black dots.
    pub fn blit(&mut self, src: &Bitmap, x: i32, y: i32) {
        for sy in 0..src.height {
            for sx in 0..src.width {
                if src.get(sx, sy) {
                    let (tx, ty) = (x + sx as i32, y + sy as i32);
                    if tx >= 0 && ty >= 0 {
                        self.set(tx as u32, ty as u32, true);
                    }
                }
            }
        }
    }
    /// Number of black dots.
    pub fn black_dots(&self) -> usize {
        self.data.iter().map(|b| b.count_ones() as usize).sum()
    }
    /// A 1-bit greyscale PNG of the image.
    pub fn to_png(&self) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width.max(1), self.height.max(1));
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            let mut w = enc.write_header().map_err(std::io::Error::other)?;
            // PNG greyscale: 1 = white, so invert; an empty image becomes one white dot.
            let data: Vec<u8> = if self.width == 0 || self.height == 0 {
                vec![0xFF]
            } else {
                self.data.iter().map(|b| !b).collect()
            };
            w.write_image_data(&data).map_err(std::io::Error::other)?;
        }
        Ok(out)
    }
}

impl OriginDimensions for Bitmap {
    fn size(&self) -> Size {
        Size::new(self.width, self.height)
    }
}

impl DrawTarget for Bitmap {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 {
                self.set(p.x as u32, p.y as u32, c.is_on());
            }
        }
        Ok(())
    }
}

/// A draw target that scales by `num/den` (each logical dot becomes a block of physical dots)
/// around `origin`: used to draw the 16-dot bitmap font at 24 or 32 dots.
pub struct Scaled<'a> {
    /// Where logical (0, 0) lands.
    pub origin: Point,
    /// Scale numerator.
    pub num: i32,
    /// Scale denominator.
    pub den: i32,
    /// Draw each dot this many extra dots to the right too (a bold stroke).
    pub embolden: i32,
    /// The physical bitmap.
    pub target: &'a mut Bitmap,
}

impl OriginDimensions for Scaled<'_> {
    fn size(&self) -> Size {
        Size::new(
            (self.target.width() as i32 * self.den / self.num.max(1)) as u32,
            (self.target.height() as i32 * self.den / self.num.max(1)) as u32,
        )
    }
}

impl DrawTarget for Scaled<'_> {
    type Color = BinaryColor;
    type Error = std::convert::Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            if !c.is_on() {
                continue;
            }
            let x0 = self.origin.x + p.x * self.num / self.den;
            let x1 = self.origin.x + (p.x + 1) * self.num / self.den;
            let y0 = self.origin.y + p.y * self.num / self.den;
            let y1 = self.origin.y + (p.y + 1) * self.num / self.den;
            self.target.fill_rect(
                x0,
                y0,
                (x1 - x0 + self.embolden).max(1) as u32,
                (y1 - y0).max(1) as u32,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msb_is_leftmost_and_png_encodes() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.data(), &[0x80, 0x00, 0x00, 0x40]);
        assert!(b.get(9, 1));
        assert_eq!(b.black_dots(), 2);
        let png = b.to_png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn scaled_draws_blocks() {
        let mut b = Bitmap::new(16, 16);
        let mut s = Scaled {
            origin: Point::new(2, 2),
            num: 3,
            den: 2,
            embolden: 0,
            target: &mut b,
        };
        Pixel(Point::new(1, 1), BinaryColor::On)
            .draw(&mut s)
            .unwrap();
        // logical 1 -> physical [1*3/2, 2*3/2) = [1, 3) offset by 2
        assert!(b.get(3, 3) && b.get(4, 4));
        assert!(!b.get(2, 2) && !b.get(5, 5));
    }
}
