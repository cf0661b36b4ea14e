import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cryptoBoxes, seededRandom } from "../helpers/cryptobox";

const test = suite("constant-time helpers");
const boxes = await cryptoBoxes();

for (const box of boxes) {
  test(`${box.variant}: ctEqualBytes and ctIsZeroBytes answer exactly 0 or 1`, () => {
    const rand = seededRandom(7);
    for (const len of [0, 1, 2, 15, 16, 17, 64, 255]) {
      const a = box.arena();
      const bytes = rand(len);
      const p = a.put(bytes, 16, 1);
      const q = a.put(bytes, 16, 3);
      assert.is(box.x.ctEqualBytes(p, q, len), 1);
      for (let i = 0; i < len; i++) {
        for (const bit of [0x01, 0x80]) {
          box.sandbox.bytes()[q + i] ^= bit;
          assert.is(box.x.ctEqualBytes(p, q, len), 0, `len ${len} byte ${i} bit ${bit}`);
          box.sandbox.bytes()[q + i] ^= bit;
        }
      }
      const z = a.alloc(len);
      assert.is(box.x.ctIsZeroBytes(z, len), 1);
      if (len > 0) {
        box.sandbox.bytes()[z + len - 1] = 0x40;
        assert.is(box.x.ctIsZeroBytes(z, len), 0);
      }
    }
  });
}

test.run();
