import { describe, expect, it } from 'vitest';
import { studyPipeline } from '../../stages/pipeline.ts';
import { runCapturedCli } from '../cli-capture.ts';

// The stage keys of the demo and the paper spec as `plan --json` printed them on main before the
// data-source seam (issue 27), computed on 2026-12-07 at commit 253e2ca. A store filled by either
// spec must stay a hit after the seam: a key that moves here makes every stored stage from curate
// down run (and, for the paper, be paid for) again. Update a literal only for a change meant to
// rerun that stage (a kind's version, its worker code), and say so in the commit.
const DEMO_KEYS: Record<string, string> = {
  curate: '07f8d6aa1c7d6a4d0bfcac951398d0a23febc8feccf4e58310f37999818e39b1',
  annotate: 'b15c624363f66b4add2ce2a26b8758a240692227cf689dae503708f9225a4f66',
  select: '23b3609a3eeedd77407223c656d9117358f172fff241bf87b7b4cdab0098860d',
  'generate-qa': 'cad3b1c2e3674cfede65f13ea1df5e89f8fab1b7807c778b6e7c1717e427566b',
  'clean-qa': 'b67b895856751ffa3e460d706d221e678758b097e397912c1c3d62336251a857',
  split: '539dd0ab6912cc63e8165d36c56d3006fdcffe16ddd2d862d82232e244079b5b',
  distractors: 'e11bb9cc10e8a599be309fc11e34a1ecbf982fea1bbf494e739c0c1818725eda',
  'subset[6]': 'f17570c1130f4322fa94e8a771b7febd0c9055621887d92a13742ba207ac147f',
  'train[qa-6]': '688c9eb1c85bc860edd58a93b82befba390879254280134341152c871f0f6d6c',
  'generate[qa-6]': 'eac9a425d9f72f41462fadbce6bdadeb6b77ea35229cb5bd8dec6464ef28ac9b',
  'evaluate[qa-6]': 'ea2248665f303ce0cf5228a3927c2d2da7666cae2062112398ab334d0905e438',
  'subset[12]': '1095f5410526cb0a66cefe24caa9dd56880d607008eae3d09d9b5c855d8c24fd',
  'train[qa-12]': '571fc5a51999d502b4e8e7d5d00154e928abf2d83ed338c0ba662e2f1b8e203e',
  'generate[qa-12]': 'd3c6e391640cd504197c5d7c3488028c2e5d4f263187e1bdab9bc4695f12d242',
  'evaluate[qa-12]': '4d49608272e1e7d1319d3148dd6d085a3acd11f00a330d3c615d783090d1c953',
  'subset[all]': 'ac47c37ae227050d6eb691541af2fee1199abef47940b6455eba5f7fbe1a0806',
  'train[qa-all]': '101cabb634d5cc204853f2026172e0f5cfbff969dad6a1ea00bdfa7844f03007',
  'generate[qa-all]': '2b83da50ab430abe1d1958cee39c0dc5678d5de96c6442902b61a1c5f43bcff5',
  'evaluate[qa-all]': 'ab9358bac209e1b8961f93e7216c9c3ddc68ec231b6cf708344c7cddd7ddc020',
  'train[caption-6]': '60d0df29764d67e8da7493f84b77f8bdbb8d997aa68c99f9a071e110c5edcb63',
  'generate[caption-6]': '10f71c43be8155bc76978bc6a4c1adb773c1bbf7df28af738e3511a85c1764ee',
  'evaluate[caption-6]': 'c49bce74c3d15bf72e8e6e8f7eaec3fd72d38beab1d63e3b5ca138e521ac4f84',
  'train[caption-12]': '54385ad99ab32d76f97149ab0313b403c8df63edc0d3a70ca97a2103138fb62a',
  'generate[caption-12]': 'f8de1416f0ea52a85aee7d451f5f9f0f885cbea9ff82ff45781bb2e705af1bbb',
  'evaluate[caption-12]': 'c5443dc6e3d4d49124c078e870bc1c4e8326b33ca3be8a30bb36a73eaf3d6b60',
  'train[caption-all]': '8ce40aaecbcdf774c0a29a69d11bcea7c1371293a211eb446613bc74d2956148',
  'generate[caption-all]': '6a7b4032fc343ee89b1412cf3cef11c615d2495717c89b1f4092597663e16372',
  'evaluate[caption-all]': 'ffce7643451803d58ddf205f9ed31a7010cdbd24b9c2ed6a3e9241ac4ebcbd3d',
  'train[qa_caption-6]': '92962c01c0ee4a1ec138ff411a7a5780ebee3f6f819206492a0d7a0c63dc54d6',
  'generate[qa_caption-6]': '5290846fec0f49e93a48a6a62ade1ae182d278ab467eb37268012a16a3524a2b',
  'evaluate[qa_caption-6]': '7a531adfab3426d0cca0665a9a08e7e1cc03422d3cfc9bf92ec567e86b4483d8',
  'train[qa_caption-12]': '41c01b8123b9ba9421b6f177c1439ea8ae7f2cc7061e361ef42e03e926160d95',
  'generate[qa_caption-12]': '89a386505e8d4aaba19a14d3f2f5871b7e9174453f058f4860353cd7b6f1190b',
  'evaluate[qa_caption-12]': '9fdd1a641dc1fe19772dbc6484ee408d9466156fa7a891928ef270a41a058ec3',
  'train[qa_caption-all]': 'ed4fb9c1a8e142e115c65d6aedadf846c7f40d929398a03a785b904937cc3ed1',
  'generate[qa_caption-all]': 'f0c20ee96e5437668de7507a74e3f272974043f6fec5e2e1bbdf1edacdfa7191',
  'evaluate[qa_caption-all]': 'f96fc1d880964435e54f338dd42e61f0eecc469b7bfaa64c3b8fee33aa7132f2',
  'generate[baseline-untuned]': 'cbbb3e4fe5797e95f88f839fc351a37e31e14db9a14706963160873207298713',
  'evaluate[baseline-untuned]': '700618fb5c6ff61be8229a91552761223802ec1240de8598163f24459801fb81',
};
const PAPER_KEYS: Record<string, string> = {
  curate: 'ac46e8a725690f4829146dc036b7f7f4f1d184d63ba7acc6971316e1587f393f',
  annotate: 'e3188be87d14d93eee87797890c8940b0f997aed0597151eaea4b1ee39255227',
  select: '96b93dffe4d96a3a53f0f6bcdf110623e49b525f1443711a2ed5a0df312044cb',
  'generate-qa': '065942e21e51b686492681a23959f0a4281fdba1f67b210a2e9587a4d9a5473a',
  'clean-qa': '93887ad0334242054d93e53b7ea417d44738311d8e1c9300659909ccda1d0663',
  split: '06d7875082ed68b1211a2ce98397a38b7c2392dc57862d4974374aa8e2d95559',
  distractors: '0a1d0da67d4a9baa2f44bf830c2f875dd86123570d3c348bad99c4d30b195eb4',
  'subset[500]': '0dc450ee60a72a74a166361fd3a546bee70e8a83d6d6035c9759e8588d21c2d5',
  'train[qa-500]': '664d178f3c3557f17e7f0ebd8f5e4ba25392eee079096c281543b718b82cc6e6',
  'generate[qa-500]': 'db311d28736a1b4b2f54d61eee0eeb9513e751e445cbaf955e44a19fa8c995fa',
  'evaluate[qa-500]': 'c762737f41d79d7cb4878e92589d01e31d155033841bbfc862347d6c28be79b5',
  'subset[1000]': '9e894926520201228bb9f8664d99d71e672be78f3ab363ec0fb1ebb3a33af2cc',
  'train[qa-1000]': 'cac2fdcc4e5ab55711d5a9701efd132cc95b85afb3b7f0043e4ce82194426d77',
  'generate[qa-1000]': '809ddcb83e490149f4ef6fd02742123a1dd1536ba46d69e51896aabf761de515',
  'evaluate[qa-1000]': '4a0d8f045948a931910552ca1bcaefea83d4151fe1949c07ff3007f0acf8a2c6',
  'subset[all]': '2c50692d53643971d23f507966e45665786d0687edfca68f342b11cb9f3416a8',
  'train[qa-all]': 'fe76c660ba8205e811173dd18497a2237be3786ed4b0ba44d05011b6a084a8d7',
  'generate[qa-all]': '43cdbde11df6bdc4a93357653194c3bbcd11522d2eb4d90c34266bae194e876c',
  'evaluate[qa-all]': 'd0290e21d154337cfed7f92771d3956df14171b1a61991baa36d66479e5f4574',
  'train[caption-500]': 'e2e747c0d6062d5719b8be0d8dc113fa86b4e1051cdd74541aa954db7009e66e',
  'generate[caption-500]': 'b4468f4fc76ba274523c08e0f56d10c1435715bce98c9b784a82c65b8f06b770',
  'evaluate[caption-500]': '6c7f94e5883614544493fef78f8e6f7d5dca98baab9f1a1d3a9fe0cbb876b7b4',
  'train[caption-1000]': '5902271a32897deb32b3d5f2b9880f66fb2c61a3adcb3cc03a10a7b2c51c7344',
  'generate[caption-1000]': '8eddad4b51bb4f84a0cf729760d46ad5682a6045b9c2267c3e89f7bd61ffbd4c',
  'evaluate[caption-1000]': '5949074ef0ed0238bf439afd5b3bdd85886c33e4d62f815e31d85952d0338f1f',
  'train[caption-all]': '251ef3addbd1f15d87dd47bdfa265b32fcafc7714f719cf42ffffaf09dd04152',
  'generate[caption-all]': '9b6e6d12064cdb512c1e1d7ff466b0955caca4faddf1d96ea0f5eb599ad4d066',
  'evaluate[caption-all]': '9cbbaca7de5aee2d0fc49ddbfbb017b4bce5662e813a1578a10267b51060d361',
  'train[qa_caption-500]': '450ae78e5af27cc31f0096b4c57ff4467d2eddacde17fb083bc15e1cfd680dea',
  'generate[qa_caption-500]': '1376e2090e3599a91cb5553b51a78f6633509fdeb0835b46ab280b814108f3df',
  'evaluate[qa_caption-500]': 'c4b7ab7d090aa2821d792b65beaf0a109d8a4bae50d8bac170e13fb78b82bc83',
  'train[qa_caption-1000]': 'd83c7ff03c98ac25af581576376645193640311026251068e4cae79fbca9fd6e',
  'generate[qa_caption-1000]': 'f6f4e178c1ff2cb40bd8b18467dcd1c56fd85b0b630b34ff4d7ce3c5fef3cc34',
  'evaluate[qa_caption-1000]': '258c1a1da564143fa1135ae721b2d7f05ba21d752102aa84728ae475d0638e25',
  'train[qa_caption-all]': '66a43e57ce6a6d22885457ff6f01f33d738c1b9d79c3a5b5a9d77a4fb92ecbf2',
  'generate[qa_caption-all]': 'e321b342c16439671171e9e17f65a4e96f3a2916ae9d74d4ea01c9d40602588c',
  'evaluate[qa_caption-all]': '7c04ade0dab323fbedd4b182d5aee66d0ad9fd1b167931ed142f18d88b0dd1dd',
  'generate[SmolVLM-Instruct]': '511dae3afa25cdd5b65f553284eea497e3937c2fc4949d93a12327d8c6df2ced',
  'evaluate[SmolVLM-Instruct]': 'c17c27e26ab0093074b0cabf05bb077046cfe848ba225fdea8e73627db5ce671',
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
