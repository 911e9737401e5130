// skein/node's types, through the exports map: its operations compose with skein's.
import { all, type Operation } from "skein";
import { get, readFile, type Response } from "skein/node";

function* fetchBoth(a: string, b: string): Operation<[string, number]> {
  const [text, res]: [string, Response] = yield* all([readFile(a, "utf8"), get(b)]);
  // @ts-expect-error: a status is a number
  const s: string = res.status;
  void s;
  return [text, res.status];
}
void fetchBoth;
