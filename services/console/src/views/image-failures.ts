/** Plain sentences for the API's per-image enrolment codes (`error.images[].code` of a 422 or 409). */
const IMAGE_FAILURE_TEXT: Record<string, string> = {
  no_face: 'No face was found in this photo.',
  multiple_faces: 'This photo shows more than one face: use a photo of the subject alone, or crop it.',
  face_too_small: 'The face is too small in this photo: use a closer shot or a larger image.',
  low_quality: 'The face is blurred, dark or turned away: use a sharp photo of the face from the front.',
  unsupported_image: 'This file is not a photo Vigil can read: use a JPEG, PNG or WebP image.',
  image_too_large: 'This file is too large: use a photo under 15 MB and 40 megapixels.',
  duplicate_image: 'This photo is already enrolled in this watchlist.',
};

/** One failed image in words; a code the console does not know keeps the server's own message. */
export function imageFailureText(code: string, serverMessage: string): string {
  return IMAGE_FAILURE_TEXT[code] ?? `${serverMessage.charAt(0).toUpperCase()}${serverMessage.slice(1)}.`;
}
