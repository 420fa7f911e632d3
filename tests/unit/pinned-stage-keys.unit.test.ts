import { describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

// The stage keys of the demo and the paper spec as `plan --json` prints them on main at 003aab2,
// where the data-source seam (issue 27) was merged in: a store filled by either spec must stay a
// hit across the seam, and the merged branch plans exactly these. (Planned before the seam, at
// 253e2ca, the demo's data chain had the same keys; main's worker job contract had since moved its
// train, generate and evaluate keys, and the paper's current Gemini model its LLM stages; the
// tuned variants' train, generate and evaluate keys moved once more when train.py began to
// store adapters that name their base model portably, and the generate and evaluate keys when
// generate.py became the one place the study's decoding options are spelled.) A key
// that moves here makes every stored stage from it down run, and for the paper be paid for,
// again: update a literal only for a change meant to rerun that stage (a kind's version, its
// worker code, a spec's setting), and say so in the commit.
const DEMO_KEYS: Record<string, string> = {
  curate: '07f8d6aa1c7d6a4d0bfcac951398d0a23febc8feccf4e58310f37999818e39b1',
  annotate: 'b15c624363f66b4add2ce2a26b8758a240692227cf689dae503708f9225a4f66',
  select: '23b3609a3eeedd77407223c656d9117358f172fff241bf87b7b4cdab0098860d',
  'generate-qa': 'cad3b1c2e3674cfede65f13ea1df5e89f8fab1b7807c778b6e7c1717e427566b',
  'clean-qa': 'b67b895856751ffa3e460d706d221e678758b097e397912c1c3d62336251a857',
  split: '539dd0ab6912cc63e8165d36c56d3006fdcffe16ddd2d862d82232e244079b5b',
  distractors: 'e11bb9cc10e8a599be309fc11e34a1ecbf982fea1bbf494e739c0c1818725eda',
  'subset[6]': 'f17570c1130f4322fa94e8a771b7febd0c9055621887d92a13742ba207ac147f',
  'train[qa-6]': '8233d1414e917c039efc7789d881cb0130bc08253911591dbec475783a592167',
  'generate[qa-6]': 'bf3c53a6af6a23c5f963c1f6f7f0abb1c5b1670a7ac8124234646564009d72d2',
  'evaluate[qa-6]': 'e86b5d1da6ac72201ba8b4fa7c9fbc4f52e4398c8c48a2844f2535ca57f4bd17',
  'subset[12]': '1095f5410526cb0a66cefe24caa9dd56880d607008eae3d09d9b5c855d8c24fd',
  'train[qa-12]': '2ffc544cb568b2e9a0e8aa1e0a97da66bab21a3809985b1b6a2a29b8e4a16776',
  'generate[qa-12]': 'f4f0595fb7d7806d56e98556436a6d0a5686b436b85ef7bf0879c8752784f3e4',
  'evaluate[qa-12]': 'd61862ec642800bba2b11461b4417524ea1a9cad335fe0c817e957656d6b5868',
  'subset[all]': 'ac47c37ae227050d6eb691541af2fee1199abef47940b6455eba5f7fbe1a0806',
  'train[qa-all]': '4be3f89045ca6d216fe11d638637fe5540c45fe085ff1edab767f87dfc5ef8a8',
  'generate[qa-all]': 'ad3c0ec176ee754108241ebc57aa30d03e689635bcb4eae6f0252aa88f09de11',
  'evaluate[qa-all]': '254fd02e85a41105516edb27a59ad62ea7105ede0537c1a8a60fea5381143b00',
  'train[caption-6]': 'c946893f3c6a11aa914604d4ab389e462aba7d467db06d3e88a4b5e33c8113ef',
  'generate[caption-6]': '98c2ee6008d040392b0da98e3a1598a7a5244b28f18fced65187e0e11cebb8db',
  'evaluate[caption-6]': '732b0ba300548a8e67f1b7012ce839c90b5f5153523076b26d5c5a0d0f2a667f',
  'train[caption-12]': '2039e6ae57e43203d5e17a5db36f47a4013453cbc9e12d15a6767da5000d675f',
  'generate[caption-12]': '1fab6486edb8425b5a378b1ab0c9a35bd72d519849faa94e526b8f4da08a4ea8',
  'evaluate[caption-12]': 'd015330527e809ba69e842a07d66e13df5fc586baccf44ea4c234221beb268f3',
  'train[caption-all]': '3f9035c987ce363319da1cd5de56e5ff536a5762cca9a629b543d161e20a8b17',
  'generate[caption-all]': '8d8210bfc61f489f394bf702104871c02525512603cf8f2717e28510dc56013f',
  'evaluate[caption-all]': '09e5b0b680935232109740ea2fc819df011e00627108fc55a93def7b6bf25734',
  'train[qa_caption-6]': 'a1a5a8b34ac81b337fc0aab59d11e563919d74589adcf76a1c2d26fb72895151',
  'generate[qa_caption-6]': 'e23b93231642072a848aa3de9a1407a4608d23c3265b626720308a7d014d8f6a',
  'evaluate[qa_caption-6]': '9105d664b266a6a815f2e1272a3695449edd42e8dc6e204b56701459253a1e21',
  'train[qa_caption-12]': 'c7a153f4e4596cfd9f96202f04d3a510b6fd02f1e606bd071c9a93db825e3f35',
  'generate[qa_caption-12]': '377f0c62bb5abcac3f8bf99418f3703f7c1ad1b01eef64b982c748c4ce3f0d9a',
  'evaluate[qa_caption-12]': '4b178df0ba562e0cf9b6ce9a7178d5facd83e95a580054d766a47d4e83cb1382',
  'train[qa_caption-all]': 'eeb19518025a0b51d8f240058b2e609f24fe0c30bef4dc01e1faa8960e5ba0c4',
  'generate[qa_caption-all]': '140a11e7bca09b5dab07fe114f4cbdb74208fe115a02ed56f0a41e98fa1488d6',
  'evaluate[qa_caption-all]': 'cd96fa651643425707b42cb47007cd294563fc2038bbe8052f2a3cc4610931d2',
  'generate[baseline-untuned]': '4305cc62f030c8c7d0fcb0f4b27e37a3ddee4d39d89372e4b4d2eef0f289486d',
  'evaluate[baseline-untuned]': 'c109b19462ecf562636a0bb26fc18dbf0e25ca0dc4c97e43e687bf4a4d0f8f4e',
};
const PAPER_KEYS: Record<string, string> = {
  curate: 'ac46e8a725690f4829146dc036b7f7f4f1d184d63ba7acc6971316e1587f393f',
  annotate: '5acd5bebf4c51cb7f1d26a853582b477a541465f4004249ae6a088e34d6c199f',
  select: 'c6564ba3aeb809ddaf22eda166ea40f881c458d92bd02b4ef73f52a2c7e5160e',
  'generate-qa': '1106f4a59165465a2cad3b0bc53491be2af1138fdbf2277f102542cc6b3c5c33',
  'clean-qa': '74981fd37ef19203128c6938967f75585582bdd0560eef2c9583a96dad80fe12',
  split: '1c7b9e15be85426b1d203083c2092b15cc56675bbaed122a126340ee4dfb6605',
  distractors: '822800851d59925bb252419e554f739d5c8fbf46c70e4f5c557c326011071af3',
  'subset[500]': 'da01cb4ffcace25d314c7c1387810949127b6b1325b53132f9cfcac1ef87d340',
  'train[qa-500]': '3c7b2d15ac1664494663c07559b5453baebe77f4e425f4b614298feccfebf80d',
  'generate[qa-500]': '290efea7570c00f39635aab72990a09b5758775381ba65db5f1c3212acb0dc5e',
  'evaluate[qa-500]': '94266573a4f419da5202053bbe7eb98b636e17e1e209d6d42ecedc1d2eba8252',
  'subset[1000]': 'e6433de4f0d33123a0585446632a069ec14d281628bf4c713bbf5aca15e8c31a',
  'train[qa-1000]': '359d4398f2d31c981e011577cea92074e15fc1b9078bc2aa814b861e127c2a28',
  'generate[qa-1000]': '508c2d6bccdd8cb3a815c68ad40795d70ce7dbe5ab1d4de03153e9039068bbbb',
  'evaluate[qa-1000]': '5d2588564d0ee31ec0a697550276158d205721c23b11bd922d5bd99ba3d803ae',
  'subset[all]': 'ca2db68ba14a621b26fd6596cb7417497d2427eabc1d51aefeb4865ed3ccbcce',
  'train[qa-all]': 'be54ca53c483e7fb7a2d40b2992f46629004a3d338f604a579df2a2a6458b5e3',
  'generate[qa-all]': '78b42fd66f4b4616050ea4a54ad6b72daabf7867ac2b5e07aa8182ddcf604339',
  'evaluate[qa-all]': 'e6f6e42d92b14680844da6d897cee19e2cd074e1ae964f98163c5b53f3833f33',
  'train[caption-500]': 'e0ffd2439b19be05cb609694bf2a661b596bc3367cf0b903331a8378796108c9',
  'generate[caption-500]': '49af577f3ed651162cf4d2ef3db174a666423ba8ceffab738fc56d5b3fafa36b',
  'evaluate[caption-500]': 'd13bf6d2584fe6296ac81e2a3debb56ee148364d6c1c73cb2a0c7dd5960f02cb',
  'train[caption-1000]': '01924a2e0fa80c1ad80e707b279278f58ff2c64ffbafc3334e08d2ddcb6a0e6f',
  'generate[caption-1000]': '52c669ffda46d227a676a97438fae22f2f46135fde80ab7bea37d0add0fa2d4e',
  'evaluate[caption-1000]': '011a871c20f6a6c991dc398cf21026eb609c85d7d55387c33acba9e27e938018',
  'train[caption-all]': 'c4d32b86a5e379c82286c0231114e01261f7cfc5e32d39324cd59deeb9d46097',
  'generate[caption-all]': '34a5a89fab4cac7e985256c4719bb513ec7d3720b988aa4e7313488118618f91',
  'evaluate[caption-all]': '0359d514809562fed34ad4a53a0a4bf3cd3a6b8bec64c7e249bec30ea31ee53b',
  'train[qa_caption-500]': '5ab285e2d0634ee81294551959e95ec86dae973ca51f005f96187af0886fd257',
  'generate[qa_caption-500]': 'a72d28d77da6088da6015bbd47cba4b7b18428b2f193acec9f0f402b0a1a92d4',
  'evaluate[qa_caption-500]': 'b8f72540bb0b103308acd6d7af449937ac2b2f2bbbddcdac372964165a3513aa',
  'train[qa_caption-1000]': 'ed29322f77f0eda11ca99935439f2d2320053b9c9f5825638c2a844389698fa5',
  'generate[qa_caption-1000]': 'd5a0e352ed969d1686d022d1ffcafe85d39ed5d9a03772205b92128998c3790a',
  'evaluate[qa_caption-1000]': 'd7ff46515c1423478097c09813d6b68fde37cd1ec44976ce51494d79be7e25bb',
  'train[qa_caption-all]': '7ffd269375774d824698f58e827a21d49d7b68a65238075024d5ea99598efe85',
  'generate[qa_caption-all]': 'f357983832ee7ed5eef601a7415da5ebd66511991b626791a05dd687341f5760',
  'evaluate[qa_caption-all]': 'ae633382166071d2bf3b3c73f6000997dff48e6948b5b3558856aa81e1219247',
  'generate[SmolVLM-Instruct]': '63f0646746b4faa6a497d3164c27a5b6af623f4d99732af775eade5c0a3aaf1e',
  'evaluate[SmolVLM-Instruct]': '2b5f70feb57ace5614388de500050f4605eb757fce21dd4cc2a418d86ae59b7c',
};

async function plannedKeys(spec: string): Promise<Record<string, string>> {
  const plan = await runCapturedCli(['plan', spec, '--json'], {
    pipeline: studyPipeline,
    cwd: process.cwd(),
    // The paper's source names a branch; with the hub out of reach (a closed local port) its
    // curate key says the source is unpinned, the same on every machine without the hub.
    env: { DERMATUNE_STORE: '/nonexistent-store-for-plan', HF_ENDPOINT: 'http://127.0.0.1:9' },
  });
  expect(plan.code, plan.stderr).toBe(0);
  const { nodes } = JSON.parse(plan.stdout) as { nodes: { id: string; key: string }[] };
  return Object.fromEntries(nodes.map((node) => [node.id, node.key]));
}

describe('stage keys across the data-source seam', () => {
  it("the demo's stage keys are those it had before the seam", async () => {
    expect(await plannedKeys('experiments/demo.yaml')).toEqual(DEMO_KEYS);
  });

  it("the paper spec's stage keys are those it had before the seam", async () => {
    expect(await plannedKeys('experiments/paper.yaml')).toEqual(PAPER_KEYS);
  });
});
