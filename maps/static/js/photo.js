// Photos shrunk on the phone before they travel (the field app and the residents' /report):
// the long side at most 1600 px, JPEG at the best quality that stays within 300 KB (rural
// links carry a 5 MB camera photo badly), and a report's photos together within 450 KB —
// three photos over a 50 kbit/s link arrive in about 75 s, not two and a half minutes.
const LONG_SIDE = 1600;
const MAX_BYTES = 300 * 1024;
const REPORT_MAX_BYTES = 450 * 1024;
const QUALITIES = [0.82, 0.7, 0.58, 0.46, 0.35];

/** The size each of a report's ``count`` photos may have. */
export function reportPhotoBytes(count) {
  return Math.min(MAX_BYTES, Math.floor(REPORT_MAX_BYTES / Math.max(1, count)));
}

async function decode(file) {
  if ('createImageBitmap' in window) return createImageBitmap(file);
  const url = URL.createObjectURL(file);
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

function jpeg(canvas, quality) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality));
}

/** A JPEG Blob of ``file`` at most LONG_SIDE px long and ``maxBytes`` big. */
export async function shrinkPhoto(file, maxBytes = MAX_BYTES) {
  const image = await decode(file);
  let scale = Math.min(1, LONG_SIDE / Math.max(image.width, image.height));
  for (;;) {
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await jpeg(canvas, quality);
      if (blob.size <= maxBytes) return blob;
    }
    scale *= 0.75; // still too big at the lowest quality: fewer pixels
  }
}
