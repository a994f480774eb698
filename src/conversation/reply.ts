/** Removes `<internal>…</internal>` reasoning from an agent reply; '' means "send nothing". */
export function cleanReply(text: string): string {
  return text
    .replace(/<internal>[\s\S]*?<\/internal>/gi, '')
    .replace(/<internal>[\s\S]*$/i, '')
    .trim();
}
