// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.37;

/// @notice What ZkLink needs from a Groth16 verifier (src/Groth16Verifier.sol).
interface IBlockVerifier {
    function verifyProof(uint256[8] calldata proof, uint256 input) external view returns (bool);
}

/// @notice The ERC-20 calls ZkLink makes (return values are checked where present).
interface IERC20Like {
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address owner) external view returns (uint256);
}

/// @title zklink rollup contract for one connected chain
/// @notice One deployment per connected EVM chain. Byte layouts, the commitment and the rolling
/// per-chain hash are specified in docs/protocol.md (§8 pubdata, §9 commitment, §13 contracts).
///
/// * Users deposit (native coin or listed ERC-20s, scaled from L1 decimals to 18) and request full
///   exits; both enter this chain's priority queue with an expiry.
/// * The operator's validators commit blocks: this contract receives only this chain's on-chain
///   ops, recomputes this chain's rolling hash, checks deposits and full exits against the queue in
///   order and change-pubkey authorisations, and stores the block's commitment. A data-availability
///   chain also receives the whole pubdata and checks its hash.
/// * `proveBlocks` checks each committed block's Groth16 proof against its commitment.
contract ZkLink {
    // ---------------------------------------------------------------- protocol constants (§8, §9)
    uint256 internal constant CHUNK_BYTES = 24;
    uint8 internal constant OP_DEPOSIT = 0x01;
    uint8 internal constant OP_WITHDRAW = 0x03;
    uint8 internal constant OP_FULL_EXIT = 0x05;
    uint8 internal constant OP_CHANGE_PUBKEY = 0x06;
    uint8 internal constant OP_FORCED_EXIT = 0x07;
    /// Token id 1 is the L2-only USD; ids 17..=31 are stablecoins that may be credited as USD.
    uint16 internal constant USD_TOKEN_ID = 1;
    uint16 internal constant MIN_STABLECOIN_ID = 17;
    uint16 internal constant MAX_STABLECOIN_ID = 31;
    uint16 internal constant MIN_USER_TOKEN_ID = 17;
    /// Account 1's owner address: the global asset account nobody controls.
    address internal constant GLOBAL_ASSET_ADDRESS = 0xFFfFfFffFFfffFFfFFfFFFFFffFFFffffFfFFFfF;
    uint32 internal constant GLOBAL_ASSET_ACCOUNT_ID = 1;
    /// The commitment as a BN254 scalar: its top 3 bits cleared (§9).
    uint256 internal constant INPUT_MASK = type(uint256).max >> 3;
    /// L2 amounts are u128 with 18 decimals.
    uint256 internal constant L2_DECIMALS = 18;
    bytes32 internal constant EIP712_DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant CHANGE_PUBKEY_TYPEHASH =
        keccak256("ChangePubKey(bytes20 pubKeyHash,uint32 nonce,uint32 accountId)");
    /// secp256k1 order / 2: higher s values are malleable duplicates and rejected.
    uint256 internal constant SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // ---------------------------------------------------------------- configuration
    /// This chain's zklink chain id (1..=CHAIN_COUNT) and the number of connected chains.
    uint8 public immutable CHAIN_ID;
    uint8 public immutable CHAIN_COUNT;
    /// Whether this chain receives the full pubdata of every block.
    bool public immutable DATA_AVAILABILITY;
    /// Preset bounds (docs/protocol.md §2): account ids < 2^ACCOUNT_BITS, sub-accounts < 2^SUB_ACCOUNT_BITS.
    uint8 public immutable ACCOUNT_BITS;
    uint8 public immutable SUB_ACCOUNT_BITS;
    /// L1 blocks a priority request may wait before exodus can be activated.
    uint64 public immutable PRIORITY_EXPIRATION_BLOCKS;
    bytes32 public immutable DOMAIN_SEPARATOR;

    address public governor;
    mapping(address => bool) public validators;
    /// Groth16 verifier per block shape (chunk count).
    mapping(uint32 => address) public blockVerifiers;

    struct Token {
        address token; // address(0) for the native coin
        uint8 decimals;
        bool registered;
        bool paused; // pausing stops deposits only
        uint128 maxDeposit; // per deposit, in L2 units (18 decimals)
    }

    mapping(uint16 => Token) public tokens;
    mapping(address => uint16) public tokenIds;

    // ---------------------------------------------------------------- priority queue
    struct PriorityRequest {
        bytes32 hashedPubData; // keccak256 of the op's pubdata with the fields L1 cannot know zeroed
        uint64 expirationBlock;
        uint8 opType;
    }

    mapping(uint64 => PriorityRequest) public priorityRequests;
    uint64 public firstPriorityRequestId;
    uint64 public totalOpenPriorityRequests;
    /// Requests consumed by committed (not yet executed) blocks, counted from firstPriorityRequestId.
    uint64 public totalCommittedPriorityRequests;

    // ---------------------------------------------------------------- blocks
    /// What is kept of a block: its hash is stored, callers pass the struct back.
    struct StoredBlockInfo {
        uint32 blockNumber;
        uint64 priorityOperations; // this chain's priority requests the block consumed
        bytes32 pendingOnchainOpsHash; // keccak chain of the ops that pay out at execution
        uint64 timestamp;
        bytes32 stateRoot;
        bytes32 commitment;
        bytes32 syncHash;
    }

    /// A block as the validator commits it to this chain.
    struct CommitBlockInfo {
        uint32 blockNumber;
        uint64 timestamp;
        bytes32 newStateRoot;
        /// sha256(pubdata); ignored on a data-availability chain, which hashes `pubdata` itself.
        bytes32 pubdataHash;
        /// The full pubdata (data-availability chains only; empty elsewhere).
        bytes pubdata;
        /// This chain's on-chain ops in block order, each with its chunk padding.
        bytes onchainOps;
        /// H_1..H_n; the entry of this chain must equal the hash recomputed from `onchainOps`.
        bytes32[] chainHashes;
        /// One entry per ChangePubKey op in `onchainOps`: a 65-byte EIP-712 signature by the
        /// owner, or empty when the key was authorised beforehand with `setAuthPubkeyHash`.
        bytes[] changePubKeyAuth;
    }

    mapping(uint32 => bytes32) public storedBlockHashes;
    uint32 public totalBlocksCommitted;
    uint32 public totalBlocksProven;
    uint32 public totalBlocksExecuted;

    /// On-chain change-pubkey authorisations: owner → account nonce → pubkey hash.
    mapping(address => mapping(uint32 => bytes20)) public authFacts;

    bool private locked;

    // ---------------------------------------------------------------- events
    event NewPriorityRequest(
        address indexed sender, uint64 indexed serialId, uint8 opType, bytes pubData, uint64 expirationBlock
    );
    event BlockCommit(uint32 indexed blockNumber, bytes32 commitment, bytes32 syncHash);
    event BlockProven(uint32 indexed blockNumber);
    event TokenAdded(uint16 indexed tokenId, address token, uint8 decimals, uint128 maxDeposit);
    event TokenPaused(uint16 indexed tokenId, bool paused);
    event ValidatorStatus(address indexed validator, bool active);
    event BlockVerifierSet(uint32 indexed chunks, address verifier);
    event GovernorChanged(address governor);
    event AuthPubkeyHash(address indexed owner, uint32 nonce, bytes20 pubKeyHash);

    // ---------------------------------------------------------------- errors
    error NotGovernor();
    error NotValidator();
    error Reentrancy();
    error BadConfig(string what);
    error TokenNotListed(uint16 tokenId);
    error TokenAlreadyListed(uint16 tokenId);
    error DepositsPaused(uint16 tokenId);
    error BadDeposit(string reason);
    error BadFullExit(string reason);
    error TransferFailed();
    error WrongBlockNumber(uint32 expected, uint32 got);
    error StoredBlockMismatch(uint32 blockNumber);
    error BadTimestamp(uint64 previous, uint64 got);
    error BadPubdata(string reason);
    error BadOnchainOp(uint256 offset, string reason);
    error PriorityQueueMismatch(uint64 serialId, uint256 offset);
    error PriorityQueueExhausted(uint256 offset);
    error ChainHashMismatch(bytes32 expected, bytes32 got);
    error BadChangePubKeyAuth(uint256 offset, string reason);
    error NoVerifier(uint32 chunks);
    error InvalidProof(uint32 blockNumber);
    error NothingToProve();

    modifier onlyGovernor() {
        if (msg.sender != governor) revert NotGovernor();
        _;
    }

    modifier onlyValidator() {
        if (!validators[msg.sender]) revert NotValidator();
        _;
    }

    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    constructor(
        uint8 chainId,
        uint8 chainCount,
        bool dataAvailability,
        uint8 accountBits,
        uint8 subAccountBits,
        uint64 priorityExpirationBlocks,
        address governor_,
        bytes32 genesisRoot
    ) {
        if (chainId == 0 || chainId > chainCount) revert BadConfig("chain id must be in 1..=chain count");
        if (accountBits == 0 || accountBits > 32 || subAccountBits > 8) revert BadConfig("preset bits");
        if (governor_ == address(0)) revert BadConfig("governor");
        CHAIN_ID = chainId;
        CHAIN_COUNT = chainCount;
        DATA_AVAILABILITY = dataAvailability;
        ACCOUNT_BITS = accountBits;
        SUB_ACCOUNT_BITS = subAccountBits;
        PRIORITY_EXPIRATION_BLOCKS = priorityExpirationBlocks;
        DOMAIN_SEPARATOR = keccak256(
            abi.encode(EIP712_DOMAIN_TYPEHASH, keccak256("zklink"), keccak256("1"), block.chainid, address(this))
        );
        governor = governor_;
        StoredBlockInfo memory genesis = StoredBlockInfo(0, 0, bytes32(0), 0, genesisRoot, bytes32(0), bytes32(0));
        storedBlockHashes[0] = keccak256(abi.encode(genesis));
    }

    // ================================================================ governance
    function setGovernor(address governor_) external onlyGovernor {
        if (governor_ == address(0)) revert BadConfig("governor");
        governor = governor_;
        emit GovernorChanged(governor_);
    }

    function setValidator(address validator, bool active) external onlyGovernor {
        validators[validator] = active;
        emit ValidatorStatus(validator, active);
    }

    function setBlockVerifier(uint32 chunks, address verifier) external onlyGovernor {
        blockVerifiers[chunks] = verifier;
        emit BlockVerifierSet(chunks, verifier);
    }

    /// Lists `token` (address(0): the native coin) under `tokenId` with its L1 decimals.
    function addToken(uint16 tokenId, address token, uint8 decimals, uint128 maxDeposit) external onlyGovernor {
        if (tokenId < MIN_USER_TOKEN_ID) revert BadConfig("token ids below 17 are L2-only");
        if (decimals > L2_DECIMALS) revert BadConfig("more than 18 decimals");
        if (tokens[tokenId].registered) revert TokenAlreadyListed(tokenId);
        if (tokenIds[token] != 0) revert TokenAlreadyListed(tokenIds[token]);
        tokens[tokenId] = Token(token, decimals, true, false, maxDeposit);
        tokenIds[token] = tokenId;
        emit TokenAdded(tokenId, token, decimals, maxDeposit);
    }

    function setTokenPaused(uint16 tokenId, bool paused) external onlyGovernor {
        if (!tokens[tokenId].registered) revert TokenNotListed(tokenId);
        tokens[tokenId].paused = paused;
        emit TokenPaused(tokenId, paused);
    }

    // ================================================================ deposits and full exits
    /// Deposits the native coin to `to`'s sub-account on L2.
    function depositETH(address to, uint8 subAccountId) external payable nonReentrant {
        uint16 tokenId = tokenIds[address(0)];
        if (tokenId == 0) revert TokenNotListed(0);
        _deposit(tokenId, msg.value, to, subAccountId, false);
    }

    /// Deposits `amount` (L1 units) of a listed ERC-20; what arrives is credited, so a
    /// fee-on-transfer token credits the received amount. `mapToUsd` credits a stablecoin as USD.
    function depositERC20(address token, uint128 amount, address to, uint8 subAccountId, bool mapToUsd)
        external
        nonReentrant
    {
        uint16 tokenId = tokenIds[token];
        if (tokenId == 0 || token == address(0)) revert TokenNotListed(0);
        uint256 before = IERC20Like(token).balanceOf(address(this));
        _callOptionalBool(token, abi.encodeCall(IERC20Like.transferFrom, (msg.sender, address(this), amount)));
        uint256 received = IERC20Like(token).balanceOf(address(this)) - before;
        _deposit(tokenId, received, to, subAccountId, mapToUsd);
    }

    function _deposit(uint16 tokenId, uint256 l1Amount, address to, uint8 subAccountId, bool mapToUsd) internal {
        Token memory t = tokens[tokenId];
        if (t.paused) revert DepositsPaused(tokenId);
        if (to == address(0) || to == GLOBAL_ASSET_ADDRESS) revert BadDeposit("receiver");
        if (subAccountId >> SUB_ACCOUNT_BITS != 0) revert BadDeposit("sub-account out of range");
        if (mapToUsd && (tokenId < MIN_STABLECOIN_ID || tokenId > MAX_STABLECOIN_ID)) {
            revert BadDeposit("only stablecoins (ids 17..=31) map to USD");
        }
        uint256 amount = l1Amount * 10 ** (L2_DECIMALS - t.decimals);
        if (amount == 0) revert BadDeposit("zero amount");
        if (amount > t.maxDeposit) revert BadDeposit("above the per-deposit cap");
        uint16 l2Token = mapToUsd ? USD_TOKEN_ID : tokenId;
        // Deposit op (§8) with account id 0: L2 assigns it, so the queue ignores that field.
        bytes memory op = abi.encodePacked(
            OP_DEPOSIT, CHAIN_ID, uint32(0), subAccountId, tokenId, l2Token, uint128(amount), to, uint8(0)
        );
        _enqueue(OP_DEPOSIT, op);
    }

    /// Asks L2 to exit the whole balance of (accountId, subAccountId, l2TokenId) to this chain as
    /// l1TokenId. Pays nothing unless the sender owns the account; L2 must process it in order.
    function requestFullExit(uint32 accountId, uint8 subAccountId, uint16 l1TokenId, uint16 l2TokenId)
        external
        nonReentrant
    {
        if (accountId >> ACCOUNT_BITS != 0 || accountId == GLOBAL_ASSET_ACCOUNT_ID) revert BadFullExit("account id");
        if (subAccountId >> SUB_ACCOUNT_BITS != 0) revert BadFullExit("sub-account out of range");
        if (!tokens[l1TokenId].registered) revert TokenNotListed(l1TokenId);
        bool usd = l2TokenId == USD_TOKEN_ID && l1TokenId >= MIN_STABLECOIN_ID && l1TokenId <= MAX_STABLECOIN_ID;
        if (l2TokenId != l1TokenId && !usd) revert BadFullExit("token mapping");
        bytes memory op = abi.encodePacked(
            OP_FULL_EXIT, CHAIN_ID, accountId, subAccountId, l1TokenId, l2TokenId, uint128(0), msg.sender, uint8(0)
        );
        _enqueue(OP_FULL_EXIT, op);
    }

    /// Authorises `pubKeyHash` as the L2 key of the sender's account at account nonce `nonce`,
    /// for a ChangePubKey op committed later without a signature.
    function setAuthPubkeyHash(bytes20 pubKeyHash, uint32 nonce) external {
        if (authFacts[msg.sender][nonce] != bytes20(0)) revert BadChangePubKeyAuth(0, "already set for this nonce");
        authFacts[msg.sender][nonce] = pubKeyHash;
        emit AuthPubkeyHash(msg.sender, nonce, pubKeyHash);
    }

    function _enqueue(uint8 opType, bytes memory op) internal {
        uint64 serialId = firstPriorityRequestId + totalOpenPriorityRequests;
        uint64 expiration = uint64(block.number) + PRIORITY_EXPIRATION_BLOCKS;
        priorityRequests[serialId] = PriorityRequest(_queueHash(op), expiration, opType);
        totalOpenPriorityRequests++;
        emit NewPriorityRequest(msg.sender, serialId, opType, op, expiration);
    }

    /// keccak256 of an op with the fields L1 cannot know zeroed: a deposit's account id (bytes
    /// 2..6), a full exit's amount (bytes 11..27). `op` is copied, never modified.
    function _queueHash(bytes memory op) internal pure returns (bytes32) {
        bytes memory copy = bytes.concat(op);
        if (uint8(copy[0]) == OP_DEPOSIT) {
            for (uint256 i = 2; i < 6; i++) copy[i] = 0;
        } else {
            for (uint256 i = 11; i < 27; i++) copy[i] = 0;
        }
        return keccak256(copy);
    }

    // ================================================================ commit
    /// Commits `newBlocks` on top of `lastCommitted` (the latest committed block, as stored).
    function commitBlocks(StoredBlockInfo memory lastCommitted, CommitBlockInfo[] calldata newBlocks)
        external
        onlyValidator
        nonReentrant
    {
        _requireStored(lastCommitted);
        if (lastCommitted.blockNumber != totalBlocksCommitted) {
            revert WrongBlockNumber(totalBlocksCommitted, lastCommitted.blockNumber);
        }
        for (uint256 i = 0; i < newBlocks.length; i++) {
            lastCommitted = _commitOne(lastCommitted, newBlocks[i]);
            storedBlockHashes[lastCommitted.blockNumber] = keccak256(abi.encode(lastCommitted));
            emit BlockCommit(lastCommitted.blockNumber, lastCommitted.commitment, lastCommitted.syncHash);
        }
        totalBlocksCommitted = lastCommitted.blockNumber;
    }

    function _commitOne(StoredBlockInfo memory prev, CommitBlockInfo calldata b)
        internal
        returns (StoredBlockInfo memory)
    {
        if (b.blockNumber != prev.blockNumber + 1) revert WrongBlockNumber(prev.blockNumber + 1, b.blockNumber);
        if (b.timestamp < prev.timestamp || b.timestamp > block.timestamp + 1 hours) {
            revert BadTimestamp(prev.timestamp, b.timestamp);
        }
        bytes32 pubdataHash = b.pubdataHash;
        if (DATA_AVAILABILITY) {
            if (b.pubdata.length == 0 || b.pubdata.length % CHUNK_BYTES != 0) revert BadPubdata("length");
            pubdataHash = sha256(b.pubdata);
        } else if (b.pubdata.length != 0) {
            revert BadPubdata("only data-availability chains take pubdata");
        }
        (bytes32 chainHash, uint64 priorityOps, bytes32 pendingHash) = _processOnchainOps(b);
        if (b.chainHashes.length != CHAIN_COUNT) revert BadPubdata("one hash per connected chain");
        if (b.chainHashes[CHAIN_ID - 1] != chainHash) revert ChainHashMismatch(chainHash, b.chainHashes[CHAIN_ID - 1]);
        bytes32 commitment = sha256(
            abi.encodePacked(
                b.blockNumber, b.timestamp, prev.stateRoot, b.newStateRoot, pubdataHash, abi.encodePacked(b.chainHashes)
            )
        );
        return StoredBlockInfo(
            b.blockNumber,
            priorityOps,
            pendingHash,
            b.timestamp,
            b.newStateRoot,
            commitment,
            keccak256(abi.encodePacked(prev.syncHash, commitment))
        );
    }

    /// Walks this chain's on-chain ops: rolls H_c, checks priority requests in queue order and
    /// change-pubkey authorisations, and chains the ops that pay out at execution.
    function _processOnchainOps(CommitBlockInfo calldata b)
        internal
        returns (bytes32 chainHash, uint64 priorityOps, bytes32 pendingHash)
    {
        bytes calldata ops = b.onchainOps;
        uint256 cpk = 0;
        uint256 offset = 0;
        while (offset < ops.length) {
            uint8 code = uint8(ops[offset]);
            uint256 len = _onchainOpChunks(code, offset) * CHUNK_BYTES;
            if (offset + len > ops.length) revert BadOnchainOp(offset, "truncated");
            bytes calldata op = ops[offset:offset + len];
            if (uint8(op[1]) != CHAIN_ID) revert BadOnchainOp(offset, "op of another chain");
            chainHash = sha256(abi.encodePacked(chainHash, op));
            if (code == OP_DEPOSIT || code == OP_FULL_EXIT) {
                _checkPriorityRequest(op, totalCommittedPriorityRequests + priorityOps, offset);
                priorityOps++;
            }
            if (code == OP_CHANGE_PUBKEY) {
                if (cpk >= b.changePubKeyAuth.length) revert BadChangePubKeyAuth(offset, "missing");
                _checkChangePubKey(op, b.changePubKeyAuth[cpk], offset);
                cpk++;
            }
            if (code == OP_WITHDRAW || code == OP_FULL_EXIT || code == OP_FORCED_EXIT) {
                pendingHash = keccak256(abi.encodePacked(pendingHash, op));
            }
            offset += len;
        }
        if (cpk != b.changePubKeyAuth.length) revert BadChangePubKeyAuth(offset, "more authorisations than ops");
        totalCommittedPriorityRequests += priorityOps;
    }

    function _onchainOpChunks(uint8 code, uint256 offset) internal pure returns (uint256) {
        if (code == OP_DEPOSIT || code == OP_FULL_EXIT) return 2;
        if (code == OP_WITHDRAW || code == OP_CHANGE_PUBKEY || code == OP_FORCED_EXIT) return 3;
        revert BadOnchainOp(offset, "not an on-chain op code");
    }

    /// The op must be the request with queue position `index` (counted from the first open one).
    function _checkPriorityRequest(bytes calldata op, uint64 index, uint256 offset) internal view {
        if (index >= totalOpenPriorityRequests) revert PriorityQueueExhausted(offset);
        uint64 serialId = firstPriorityRequestId + index;
        PriorityRequest storage r = priorityRequests[serialId];
        if (r.opType != uint8(op[0]) || r.hashedPubData != _queueHash(op)) {
            revert PriorityQueueMismatch(serialId, offset);
        }
    }

    /// ChangePubKey op (§8): `06 ‖ chain ‖ account u32 ‖ sub ‖ new_pkh 20 ‖ owner 20 ‖ nonce u32 ‖ …`.
    function _checkChangePubKey(bytes calldata op, bytes calldata auth, uint256 offset) internal view {
        uint32 accountId = uint32(bytes4(op[2:6]));
        bytes20 pkh = bytes20(op[7:27]);
        address owner = address(bytes20(op[27:47]));
        uint32 nonce = uint32(bytes4(op[47:51]));
        if (auth.length == 0) {
            if (authFacts[owner][nonce] != pkh) revert BadChangePubKeyAuth(offset, "no on-chain authorisation");
            return;
        }
        if (auth.length != 65) revert BadChangePubKeyAuth(offset, "signature must be 65 bytes");
        bytes32 digest = keccak256(
            abi.encodePacked(
                "\x19\x01", DOMAIN_SEPARATOR, keccak256(abi.encode(CHANGE_PUBKEY_TYPEHASH, pkh, nonce, accountId))
            )
        );
        bytes32 r = bytes32(auth[0:32]);
        bytes32 s = bytes32(auth[32:64]);
        uint8 v = uint8(auth[64]);
        if (uint256(s) > SECP256K1_HALF_N || (v != 27 && v != 28)) revert BadChangePubKeyAuth(offset, "malleable");
        address signer = ecrecover(digest, v, r, s);
        if (signer == address(0) || signer != owner) revert BadChangePubKeyAuth(offset, "not signed by the owner");
    }

    // ================================================================ prove
    /// Proves committed blocks in order: `blocks[i]` is the next unproven block as stored,
    /// `chunks[i]` its shape (which verifier), `proofs[i]` its Groth16 proof.
    function proveBlocks(StoredBlockInfo[] calldata blocks, uint32[] calldata chunks, uint256[8][] calldata proofs)
        external
        nonReentrant
    {
        if (blocks.length == 0 || blocks.length != chunks.length || blocks.length != proofs.length) {
            revert NothingToProve();
        }
        uint32 next = totalBlocksProven;
        for (uint256 i = 0; i < blocks.length; i++) {
            next++;
            if (blocks[i].blockNumber != next) revert WrongBlockNumber(next, blocks[i].blockNumber);
            _requireStored(blocks[i]);
            address verifier = blockVerifiers[chunks[i]];
            if (verifier == address(0)) revert NoVerifier(chunks[i]);
            uint256 input = uint256(blocks[i].commitment) & INPUT_MASK;
            if (!IBlockVerifier(verifier).verifyProof(proofs[i], input)) revert InvalidProof(next);
            emit BlockProven(next);
        }
        if (next > totalBlocksCommitted) revert WrongBlockNumber(totalBlocksCommitted, next);
        totalBlocksProven = next;
    }

    // ================================================================ helpers
    function _requireStored(StoredBlockInfo memory b) internal view {
        if (storedBlockHashes[b.blockNumber] != keccak256(abi.encode(b))) revert StoredBlockMismatch(b.blockNumber);
    }

    /// Calls an ERC-20 that may or may not return a bool (USDT-style tokens return nothing).
    function _callOptionalBool(address token, bytes memory data) internal {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool))) || token.code.length == 0) revert TransferFailed();
    }
}
