// Photos shrunk on the phone before they travel: the long side at most 1600 px, JPEG at
// the best quality that stays within 300 KB (rural links carry a 5 MB camera photo badly).
const LONG_SIDE = 1600;
const MAX_BYTES = 300 * 1024;
const QUALITIES = [0.82, 0.7, 0.58, 0.46, 0.35];

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

/** A JPEG Blob of ``file`` at most LONG_SIDE px long and MAX_BYTES big. */
export async function shrinkPhoto(file) {
  const image = await decode(file);
  let scale = Math.min(1, LONG_SIDE / Math.max(image.width, image.height));
  for (;;) {
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(image.width * scale));
    canvas.height = Math.max(1, Math.round(image.height * scale));
    canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
    for (const quality of QUALITIES) {
      const blob = await jpeg(canvas, quality);
      if (blob.size <= MAX_BYTES) return blob;
    }
    scale *= 0.75; // still too big at the lowest quality: fewer pixels
  }
}
